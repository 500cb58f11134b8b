/**
 * `tofu`, `terraform`: the state backend a command reads and writes, and the endpoints its
 * configuration talks to. The working folder is `-chdir=DIR` (else the cwd); the backend comes from
 * the `terraform { backend "…" { … } }` (or `cloud { … }`) block merged with `-backend-config`, and
 * from `.terraform/terraform.tfstate` — the backend already initialised (both count when they
 * differ). Endpoints are string literals that are URLs, `host:port` or address literals (and plain
 * host names under host-like keys such as `host`, `endpoint`, `*_url`) — but only in provider blocks,
 * backend blocks, variable defaults and tfvars values (`terraform.tfvars`, `*.auto.tfvars`,
 * `-var-file`, `-var`): resources are left alone, which keeps the noise low (a resource's address
 * is what it creates, not where the command connects).
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { hostsOfUrl } from '../hostspec';
import type { ExtractContext, Extraction, Extractor, InputProblem, Target, TargetSource } from '../types';
import { hostCandidates } from './generic';
import { parseHcl, plainString, stringsIn, type HclAttribute, type HclBlock, type HclBody, type HclValue } from './hcl';
import { readKubeconfigTargets } from './kube';
import { argvSource, displayPlace, envSource, expandPath, fileSource, readText, redact, splitWords } from './util';

/** Subcommands that touch neither the state nor a provider. */
const LOCAL_SUBCOMMANDS = ['fmt', 'version', 'validate', 'graph', 'metadata', 'help'];

export const extractTofu: Extractor = async (argv, ctx) => {
  const result: Extraction = { targets: [], problems: [], notes: [] };
  const tool = basename(argv[0] ?? 'tofu');
  const parsed = parseTofuArgs(argv, ctx.env);
  if (parsed.local) {
    result.notes.push(`${tool} ${parsed.local} touches no state and no provider`);
    return result;
  }
  const dir = parsed.chdir ? expandPath(parsed.chdir.value, ctx.cwd, ctx.home) : ctx.cwd;
  if (!existsSync(dir)) {
    result.problems.push({ file: dir, line: 1, column: 1, message: `-chdir folder does not exist` });
    return result;
  }

  // The configuration: *.tf and *.tofu in the folder (not sub-folders: those are modules).
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    result.problems.push({ file: dir, line: 1, column: 1, message: `cannot list: ${(err as Error).message}` });
    return result;
  }
  const configFiles = names.filter((n) => n.endsWith('.tf') || n.endsWith('.tofu')).map((n) => join(dir, n));
  const jsonFiles = names.filter((n) => n.endsWith('.tf.json') || n.endsWith('.tofu.json'));
  if (jsonFiles.length > 0) result.notes.push(`${jsonFiles.join(', ')}: JSON configuration is not inspected`);
  const varFiles = names.filter((n) => n === 'terraform.tfvars' || n.endsWith('.auto.tfvars')).map((n) => join(dir, n));
  for (const v of parsed.varFiles) varFiles.push(expandPath(v.value, dir, ctx.home));

  const backends: BackendSpec[] = [];
  // A file that cannot be read or parsed is a problem with its place; what parsed still counts.
  const parse = async (file: string) => {
    const read = await readText(file);
    if ('problem' in read) {
      result.problems.push(read.problem);
      return undefined;
    }
    const { body, problems } = parseHcl(read.text);
    result.problems.push(...problems.map((p) => ({ file, ...p })));
    return body;
  };
  for (const file of configFiles) {
    const body = await parse(file);
    if (!body) continue;
    for (const e of endpointsOf(body, file, false)) result.targets.push(endpointTarget(e, file, ctx));
    backends.push(...backendBlocks(body, file));
    result.targets.push(...(await kubeProviderTargets(body, file, ctx, result.notes)));
  }
  for (const file of varFiles) {
    const body = await parse(file);
    if (!body) continue;
    for (const e of endpointsOf(body, file, true)) result.targets.push(endpointTarget(e, file, ctx));
  }
  for (const v of parsed.vars) {
    const eq = v.value.indexOf('=');
    const name = eq > 0 ? v.value.slice(0, eq) : v.value;
    const value = eq > 0 ? v.value.slice(eq + 1) : '';
    for (const c of hostCandidates(value, { bareNames: HOSTISH.test(name) })) {
      result.targets.push({
        kind: c.kind,
        name: c.spec,
        host: c.host,
        source: v.source,
        chain: [`-var ${name}=${redact(c.spec)} (${v.where})`],
      });
    }
  }
  for (const [key, value] of Object.entries(ctx.env)) {
    const m = /^TF_VAR_(.+)$/.exec(key);
    if (!m || !value) continue;
    for (const c of hostCandidates(value, { bareNames: HOSTISH.test(m[1]) })) {
      result.targets.push({
        kind: c.kind,
        name: c.spec,
        host: c.host,
        source: envSource(key),
        chain: [`$${key}=${redact(c.spec)}`],
      });
    }
  }

  if (parsed.noBackend) {
    result.notes.push('-backend=false: the state backend is not touched');
    return result;
  }
  await backendTargets(backends, parsed, dir, ctx, result);
  return result;
};

/** One endpoint in a .tf or .tfvars file, with its place — for editor diagnostics. */
export interface TfEndpoint {
  kind: 'url' | 'host' | 'state-backend';
  /** The literal as written, or the state backend's URL. */
  value: string;
  host?: string;
  stateBackend?: string;
  /** Where in the configuration: `provider "postgresql" host`, `backend "gcs"`, `variable "pve" default`, `tfvars pve_url`. */
  where: string;
  line: number;
  column: number;
}

/** The endpoints and state backends in one .tf/.tofu/.tfvars file's text; malformed HCL → problems with lines. */
export function tfEndpoints(file: string, text: string): { endpoints: TfEndpoint[]; problems: InputProblem[] } {
  const { body, problems } = parseHcl(text);
  const endpoints: TfEndpoint[] = endpointsOf(body, file, /\.tfvars$/.test(file)).map((e) => ({
    kind: e.kind,
    value: e.value,
    host: e.host,
    where: e.where,
    line: e.line,
    column: e.column,
  }));
  for (const b of backendBlocks(body, file)) {
    const url = stateBackendUrl(b.type, b.config, dirname(file));
    endpoints.push({
      kind: 'state-backend',
      value: url,
      stateBackend: url,
      where: `backend "${b.type}"`,
      line: b.line,
      column: b.column,
    });
  }
  return { endpoints, problems: problems.map((p) => ({ file, ...p })) };
}

// ---------------------------------------------------------------------------------------------
// Command line

interface Located {
  value: string;
  source: TargetSource;
  where: string;
}

interface TofuArgs {
  chdir?: { value: string; index: number };
  local?: string;
  subcommand?: string;
  varFiles: Located[];
  vars: Located[];
  backendConfig: Located[];
  statePath?: Located;
  noBackend: boolean;
}

/** Global options, the subcommand, then its options — plus `$TF_CLI_ARGS` and `$TF_CLI_ARGS_<sub>`. */
function parseTofuArgs(argv: readonly string[], env: NodeJS.ProcessEnv): TofuArgs {
  const out: TofuArgs = { varFiles: [], vars: [], backendConfig: [], noBackend: false };
  let i = 1;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    const chdir = /^--?chdir(?:=(.*))?$/s.exec(arg);
    if (chdir) {
      if (chdir[1] !== undefined) out.chdir = { value: chdir[1], index: i };
      else if (i + 1 < argv.length) out.chdir = { value: argv[++i], index: i };
      continue;
    }
    if (/^--?(version|v|help|h)$/.test(arg)) {
      out.local = arg;
      return out;
    }
    if (!arg.startsWith('-')) break;
  }
  out.subcommand = argv[i];
  if (out.subcommand && LOCAL_SUBCOMMANDS.includes(out.subcommand)) {
    out.local = out.subcommand;
    return out;
  }
  const words: { arg: string; source: TargetSource; where: string }[] = [];
  for (const name of ['TF_CLI_ARGS', out.subcommand ? `TF_CLI_ARGS_${out.subcommand}` : '']) {
    if (name && env[name])
      for (const w of splitWords(env[name]!)) words.push({ arg: w, source: envSource(name), where: `$${name}` });
  }
  for (let k = i + 1; k < argv.length; k++) words.push({ arg: argv[k], source: argvSource(k), where: `argv[${k}]` });
  for (let k = 0; k < words.length; k++) {
    const m = /^--?(var-file|var|backend-config|state|backend)(?:=(.*))?$/s.exec(words[k].arg);
    if (!m) continue;
    let value = m[2];
    let at = words[k];
    if (value === undefined && m[1] !== 'backend' && k + 1 < words.length) {
      at = words[++k];
      value = at.arg;
    }
    if (value === undefined) continue;
    const located: Located = { value, source: at.source, where: at.where };
    if (m[1] === 'var-file') out.varFiles.push(located);
    else if (m[1] === 'var') out.vars.push(located);
    else if (m[1] === 'backend-config') out.backendConfig.push(located);
    else if (m[1] === 'state') out.statePath = located;
    else if (m[1] === 'backend') out.noBackend = value === 'false';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Endpoints in the configuration

/** Keys whose plain-name values are hosts too (`host = "db.corp"`, `pve_url`, `endpoint`). */
const HOSTISH =
  /^(host|hostname|address|addr|server|endpoint|endpoints|url|api_url|uri)$|(_host|_hostname|_url|_uri|_address|_addr|_endpoint|_server)$/i;

interface FoundEndpoint {
  kind: 'url' | 'host';
  value: string;
  host: string;
  where: string;
  line: number;
  column: number;
}

/**
 * Endpoints in provider blocks (nested blocks included), backend and cloud blocks, and variable
 * defaults — or, for a tfvars file, in every value.
 */
function endpointsOf(body: HclBody, _file: string, tfvars: boolean): FoundEndpoint[] {
  const out: FoundEndpoint[] = [];
  if (tfvars) {
    for (const a of body.attributes) scanValue(a.value, a.name, `tfvars ${a.name}`, out);
    return out;
  }
  const scanBody = (b: HclBody, where: string) => {
    for (const a of b.attributes) scanValue(a.value, a.name, `${where} ${a.name}`, out);
    for (const nested of b.blocks) scanBody(nested.body, `${where} ${nested.type}`);
  };
  for (const block of body.blocks) {
    if (block.type === 'provider') scanBody(block.body, `provider "${block.labels[0] ?? ''}"`);
    else if (block.type === 'variable') {
      const def = block.body.attributes.find((a) => a.name === 'default');
      const name = block.labels[0] ?? '';
      if (def) scanValue(def.value, HOSTISH.test(name) ? name : 'default', `variable "${name}" default`, out);
    } else if (block.type === 'terraform') {
      for (const inner of block.body.blocks) {
        if (inner.type === 'backend') scanBody(inner.body, `backend "${inner.labels[0] ?? ''}"`);
        else if (inner.type === 'cloud') scanBody(inner.body, 'cloud');
      }
    }
  }
  return out;
}

function scanValue(value: HclValue, key: string, where: string, out: FoundEndpoint[]): void {
  if (value.type === 'object') {
    for (const e of value.entries) scanValue(e.value, e.name, `${where}.${e.name}`, out);
    return;
  }
  const bareNames = HOSTISH.test(key);
  for (const s of stringsIn(value)) {
    for (const c of hostCandidates(s.value, { bareNames })) {
      if (/[${}]/.test(c.host)) continue; // an interpolated host is not known here
      out.push({ kind: c.kind, value: c.spec, host: c.host, where, line: s.line, column: s.column });
    }
  }
}

function endpointTarget(e: FoundEndpoint, file: string, ctx: ExtractContext): Target {
  return {
    kind: e.kind,
    name: e.value,
    host: e.host,
    source: fileSource(file, e.line, e.column),
    chain: [`${e.where} = "${redact(e.value)}" (${displayPlace(file, e.line, ctx)})`],
  };
}

/** `provider "kubernetes"`/`"helm"` with `config_context`: that kube context, through the kubeconfig. */
async function kubeProviderTargets(
  body: HclBody,
  file: string,
  ctx: ExtractContext,
  notes: string[],
): Promise<Target[]> {
  const targets: Target[] = [];
  const bodies: { body: HclBody; where: string }[] = [];
  for (const b of body.blocks) {
    if (b.type !== 'provider') continue;
    if (b.labels[0] === 'kubernetes') bodies.push({ body: b.body, where: 'provider "kubernetes"' });
    if (b.labels[0] === 'helm') {
      for (const k of b.body.blocks)
        if (k.type === 'kubernetes') bodies.push({ body: k.body, where: 'provider "helm" kubernetes' });
    }
  }
  for (const { body: kb, where } of bodies) {
    const attr = (name: string) => kb.attributes.find((a) => a.name === name);
    const context = attr('config_context');
    const contextName = plainString(context?.value);
    if (!context || !contextName) continue;
    const path = plainString(attr('config_path')?.value) ?? ctx.env.KUBE_CONFIG_PATH;
    const files = path ? [expandPath(path, ctx.cwd, ctx.home)] : [join(ctx.home, '.kube', 'config')];
    const found = await readKubeconfigTargets(files, contextName, { cwd: ctx.cwd, home: ctx.home, env: ctx.env });
    // The provider only fails later if its kubeconfig is off; note it rather than refuse the command.
    for (const p of found.problems) notes.push(`${where} config_context ${contextName}: ${p.message}`);
    const hop = `${where} config_context = "${contextName}" (${displayPlace(file, context.line, ctx)})`;
    for (const t of found.targets) {
      targets.push({ ...t, source: fileSource(file, context.line, context.column), chain: [hop, ...t.chain] });
    }
  }
  return targets;
}

// ---------------------------------------------------------------------------------------------
// State backends

interface BackendSpec {
  type: string;
  config: Record<string, unknown>;
  file: string;
  line: number;
  column: number;
  /** How people read where it came from. */
  origin: string;
}

/** `terraform { backend "T" { … } }` and `terraform { cloud { … } }` blocks. */
function backendBlocks(body: HclBody, file: string): BackendSpec[] {
  const out: BackendSpec[] = [];
  for (const t of body.blocks) {
    if (t.type !== 'terraform') continue;
    for (const b of t.body.blocks) {
      if (b.type === 'backend' && b.labels[0])
        out.push({
          type: b.labels[0],
          config: blockConfig(b),
          file,
          line: b.line,
          column: b.column,
          origin: `backend "${b.labels[0]}"`,
        });
      if (b.type === 'cloud')
        out.push({ type: 'cloud', config: blockConfig(b), file, line: b.line, column: b.column, origin: 'cloud' });
    }
  }
  return out;
}

/** A block's attributes as plain values (strings, lists and objects of strings; nested blocks as objects). */
function blockConfig(block: HclBlock): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of block.body.attributes) out[a.name] = plainValue(a.value);
  for (const b of block.body.blocks) out[b.type] = blockConfig(b);
  return out;
}

function plainValue(v: HclValue): unknown {
  if (v.type === 'string') return v.value;
  if (v.type === 'list') return v.items.map(plainValue);
  if (v.type === 'object') return Object.fromEntries(v.entries.map((e: HclAttribute) => [e.name, plainValue(e.value)]));
  return /^(true|false|-?[0-9.]+)$/.test(v.text) ? v.text : undefined;
}

async function backendTargets(
  blocks: BackendSpec[],
  parsed: TofuArgs,
  dir: string,
  ctx: ExtractContext,
  result: Extraction,
): Promise<void> {
  const place = (file: string, line: number) => displayPlace(file, line, ctx);
  const workspace = ctx.env.TF_WORKSPACE ?? (await readWorkspace(dir, ctx));
  const wsHop = workspace && workspace !== 'default' ? [`workspace ${workspace}`] : [];

  // -backend-config: KEY=VALUE pairs and HCL files, over the block's values.
  const overrides: Record<string, unknown> = {};
  const overrideHops: string[] = [];
  for (const bc of parsed.backendConfig) {
    const kv = /^([A-Za-z_][\w-]*)=(.*)$/s.exec(bc.value);
    if (kv) {
      overrides[kv[1]] = kv[2].replace(/^"(.*)"$/s, '$1');
      overrideHops.push(`-backend-config ${kv[1]}=${redact(kv[2])} (${bc.where})`);
      continue;
    }
    const file = expandPath(bc.value, dir, ctx.home);
    const read = await readText(file);
    if ('problem' in read) {
      result.problems.push(read.problem);
      continue;
    }
    const { body, problems } = parseHcl(read.text);
    result.problems.push(...problems.map((p) => ({ file, ...p })));
    for (const a of body.attributes) overrides[a.name] = plainValue(a.value);
    for (const b of body.blocks) overrides[b.type] = blockConfig(b);
    overrideHops.push(`-backend-config ${displayPlace(file, undefined, ctx)} (${bc.where})`);
    for (const e of endpointsOf(body, file, true))
      result.targets.push(
        endpointTarget({ ...e, where: `-backend-config ${e.where.replace(/^tfvars /, '')}` }, file, ctx),
      );
  }

  const seen = new Set<string>();
  const add = (spec: BackendSpec, hops: string[]) => {
    const url = stateBackendUrl(spec.type, spec.config, dir);
    if (seen.has(url)) return;
    seen.add(url);
    result.targets.push({
      kind: 'state-backend',
      name: spec.origin,
      stateBackend: url,
      source: fileSource(spec.file, spec.line, spec.column),
      chain: [`${spec.origin} (${place(spec.file, spec.line)})`, ...hops, ...wsHop, `state ${url}`],
    });
    for (const e of backendEnvEndpoints(spec, ctx)) result.targets.push(e);
  };

  const configured = blocks[0];
  if (blocks.length > 1) result.notes.push(`${blocks.length} backend blocks; tofu accepts only one — all were checked`);
  for (const b of blocks) add({ ...b, config: { ...b.config, ...overrides } }, b === configured ? overrideHops : []);

  // The backend already initialised: reads and migrations go there, whatever the config says now.
  const dataDir = ctx.env.TF_DATA_DIR ? expandPath(ctx.env.TF_DATA_DIR, dir, ctx.home) : join(dir, '.terraform');
  const stateFile = join(dataDir, 'terraform.tfstate');
  if (existsSync(stateFile)) {
    const read = await readText(stateFile);
    if ('problem' in read) result.problems.push(read.problem);
    else {
      let state: { backend?: { type?: unknown; config?: Record<string, unknown> } } | undefined;
      try {
        state = JSON.parse(read.text) as typeof state;
      } catch (err) {
        const pos = /position (\d+)/.exec((err as Error).message);
        const line = pos ? read.text.slice(0, Number(pos[1])).split('\n').length : 1;
        result.problems.push({ file: stateFile, line, message: `not valid JSON: ${(err as Error).message}` });
      }
      const backend = state?.backend;
      if (backend && typeof backend.type === 'string') {
        const at = read.text.indexOf('"backend"');
        const line = at < 0 ? 1 : read.text.slice(0, at).split('\n').length;
        const config = Object.fromEntries(
          Object.entries(backend.config ?? {}).filter(([, v]) => v !== null && v !== undefined),
        );
        add(
          {
            type: backend.type,
            config,
            file: stateFile,
            line,
            column: 1,
            origin: `initialised backend "${backend.type}"`,
          },
          [],
        );
        for (const [key, value] of Object.entries(config)) {
          if (typeof value !== 'string') continue;
          for (const c of hostCandidates(value, { bareNames: HOSTISH.test(key) })) {
            result.targets.push({
              kind: c.kind,
              name: c.spec,
              host: c.host,
              source: fileSource(stateFile, line),
              chain: [`initialised backend "${backend.type}" ${key} = "${redact(c.spec)}" (${place(stateFile, line)})`],
            });
          }
        }
      }
    }
  }

  if (parsed.statePath) {
    const path = expandPath(parsed.statePath.value, dir, ctx.home);
    result.targets.push({
      kind: 'state-backend',
      name: '-state',
      stateBackend: path,
      source: parsed.statePath.source,
      chain: [`-state ${parsed.statePath.value} (${parsed.statePath.where})`, `state ${path}`],
    });
    seen.add(path);
  }
  if (seen.size === 0) {
    const path = join(dir, 'terraform.tfstate');
    result.targets.push({
      kind: 'state-backend',
      name: 'local state',
      stateBackend: path,
      source: { kind: 'default', detail: 'no backend block' },
      chain: ['no backend block: local state', ...wsHop, `state ${path}`],
    });
  }
}

/** The workspace selected with `tofu workspace select` (.terraform/environment). */
async function readWorkspace(dir: string, ctx: ExtractContext): Promise<string | undefined> {
  const dataDir = ctx.env.TF_DATA_DIR ? expandPath(ctx.env.TF_DATA_DIR, dir, ctx.home) : join(dir, '.terraform');
  const file = join(dataDir, 'environment');
  if (!existsSync(file)) return undefined;
  const read = await readText(file);
  return 'text' in read ? read.text.trim() || undefined : undefined;
}

/** Backends whose address may come from the environment when the block leaves it out. */
function backendEnvEndpoints(spec: BackendSpec, ctx: ExtractContext): Target[] {
  const fromEnv: Record<string, [string, string]> = {
    http: ['address', 'TF_HTTP_ADDRESS'],
    consul: ['address', 'CONSUL_HTTP_ADDR'],
    pg: ['conn_str', 'PG_CONN_STR'],
  };
  const entry = fromEnv[spec.type];
  if (!entry || spec.config[entry[0]] !== undefined) return [];
  const value = ctx.env[entry[1]];
  if (!value) return [];
  return hostCandidates(value, { bareNames: true }).map((c) => ({
    kind: c.kind,
    name: c.spec,
    host: c.host,
    source: envSource(entry[1]),
    chain: [`${spec.origin} ${entry[0]} from $${entry[1]}=${redact(c.spec)}`],
  }));
}

/**
 * A state backend as a URL the boundary's `stateBackends` prefixes match: `gcs://bucket/prefix`,
 * `s3://bucket/key`, `azurerm://account/container/key`, `consul://addr/path`, the http address,
 * `pg://host/schema`, `cloud://hostname/org/workspace`; a local backend is its state file's path.
 */
export function stateBackendUrl(type: string, config: Record<string, unknown>, dir: string): string {
  const s = (key: string): string => {
    const v = config[key];
    return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
  };
  const join2 = (...parts: string[]) =>
    parts
      .filter((p) => p.length > 0)
      .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
      .join('/');
  switch (type) {
    case 'gcs':
      return `gcs://${join2(s('bucket'), s('prefix'))}`;
    case 's3':
      return `s3://${join2(s('bucket'), s('key'))}`;
    case 'azurerm':
      return `azurerm://${join2(s('storage_account_name'), s('container_name'), s('key'))}`;
    case 'oss':
      return `oss://${join2(s('bucket'), s('prefix'), s('key'))}`;
    case 'cos':
      return `cos://${join2(s('bucket'), s('prefix'), s('key'))}`;
    case 'http':
      return s('address') || 'http://';
    case 'consul':
      return `consul://${join2(s('address') || '127.0.0.1:8500', s('path'))}`;
    case 'pg': {
      const conn = s('conn_str');
      const host = hostsOfUrl(conn)[0] ?? /\bhost=([^\s]+)/.exec(conn)?.[1] ?? '';
      return `pg://${join2(host, s('schema_name') || 'terraform_remote_state')}`;
    }
    case 'kubernetes':
      return `kubernetes://${join2(s('namespace') || 'default', `tfstate-default-${s('secret_suffix')}`)}`;
    case 'remote':
    case 'cloud': {
      const ws = (config.workspaces ?? {}) as Record<string, unknown>;
      const w =
        typeof ws.name === 'string'
          ? ws.name
          : typeof ws.prefix === 'string'
            ? `${ws.prefix}*`
            : Array.isArray(ws.tags)
              ? `tags:${ws.tags.join(',')}`
              : '';
      return `${type}://${join2(s('hostname') || 'app.terraform.io', s('organization'), w)}`;
    }
    case 'local':
      return expandPath(s('path') || 'terraform.tfstate', dir, '');
    default: {
      const where = s('bucket') || s('address') || s('endpoint') || s('url') || s('path');
      return `${type}://${join2(where.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''), s('prefix') || s('key') || s('name'))}`;
    }
  }
}
