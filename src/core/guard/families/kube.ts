/**
 * `kubectl`, `helm`: the kube context a command talks to and its API server. The kubeconfig files
 * come from `--kubeconfig`, `$KUBECONFIG` (several, merged like kubectl: the first file to define a
 * name wins, current-context from the first file that sets one) or ~/.kube/config; the context from
 * `--context` (helm `--kube-context`, `$HELM_KUBECONTEXT`) or current-context; its cluster (or
 * `--cluster`) gives the server (or `--server`/`-s`, helm `--kube-apiserver`).
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { hostOfSpec, hostsOfUrl } from '../hostspec';
import type { ExtractContext, Extraction, Extractor, InputProblem, Target, TargetSource } from '../types';
import { argvSource, commandName, displayPlace, envSource, expandPath, fileSource, readText, shorthands } from './util';

export const extractKube: Extractor = async (argv, ctx) => {
  const helm = commandName(argv[0]) === 'helm';
  const flags = parseKubeFlags(argv, helm);
  const local = localOnly(flags, helm);
  if (local) return { targets: [], problems: [], notes: [local] };

  let files: KubeconfigFile[];
  if (flags.kubeconfig) {
    files = [{ path: expandPath(flags.kubeconfig.value, ctx.cwd, ctx.home), required: true }];
  } else {
    const fromEnv = (ctx.env.KUBECONFIG ?? '').split(delimiter).filter((f) => f.length > 0);
    files =
      fromEnv.length > 0
        ? fromEnv.map((f) => ({ path: expandPath(f, ctx.cwd, ctx.home), required: false }))
        : [{ path: join(ctx.home, '.kube', 'config'), required: false }];
  }

  let context: Chosen | undefined;
  if (flags.context)
    context = {
      name: flags.context.value,
      source: argvSource(flags.context.index, flags.contextFlag),
      hop: `argv[${flags.context.index}] ${flags.contextFlag}`,
    };
  else if (helm && ctx.env.HELM_KUBECONTEXT)
    context = { name: ctx.env.HELM_KUBECONTEXT, source: envSource('HELM_KUBECONTEXT'), hop: '$HELM_KUBECONTEXT' };
  let server: Chosen | undefined;
  if (flags.server)
    server = {
      name: flags.server.value,
      source: argvSource(flags.server.index, flags.serverFlag),
      hop: `argv[${flags.server.index}] ${flags.serverFlag}`,
    };
  else if (helm && ctx.env.HELM_KUBEAPISERVER)
    server = { name: ctx.env.HELM_KUBEAPISERVER, source: envSource('HELM_KUBEAPISERVER'), hop: '$HELM_KUBEAPISERVER' };
  const cluster = flags.cluster
    ? {
        name: flags.cluster.value,
        source: argvSource(flags.cluster.index, '--cluster'),
        hop: `argv[${flags.cluster.index}] --cluster`,
      }
    : undefined;

  return kubeTargets(files, { context, cluster, server }, ctx);
};

/**
 * The active kube context's target from these kubeconfig files (merged like kubectl) — what the
 * status bar shows. `contextOverride` stands for `--context`.
 */
export async function readKubeconfigTargets(
  files: readonly string[],
  contextOverride?: string,
  place: { cwd?: string; home?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Extraction> {
  const ctx: ExtractContext = {
    cwd: place.cwd ?? process.cwd(),
    home: place.home ?? process.env.HOME ?? '',
    env: place.env ?? process.env,
    inventoryParser: 'builtin',
  };
  const context = contextOverride
    ? { name: contextOverride, source: { kind: 'config', detail: 'context override' } as TargetSource, hop: 'override' }
    : undefined;
  return kubeTargets(
    files.map((f) => ({ path: expandPath(f, ctx.cwd, ctx.home), required: false })),
    { context },
    ctx,
  );
}

/** One cluster server in a kubeconfig file, with its place — for editor diagnostics. */
export interface KubeconfigEndpoint {
  /** The cluster's name. */
  cluster: string;
  /** `server` (or `proxy-url`) as written. */
  server: string;
  /** Its host, for resolving and matching. */
  host: string;
  /** Which field: the API server or the cluster's proxy. */
  field: 'server' | 'proxy-url';
  line: number;
  column: number;
  /** The contexts that use this cluster (matched by name against production.kubeContexts). */
  contexts: string[];
}

/** Every cluster server (and proxy-url) in one kubeconfig file's text, with its line; malformed YAML → problems. */
export function kubeconfigEndpoints(
  file: string,
  text: string,
): { endpoints: KubeconfigEndpoint[]; problems: InputProblem[] } {
  const config = parseKubeconfig(file, text);
  const endpoints: KubeconfigEndpoint[] = [];
  for (const [name, c] of config.clusters) {
    const contexts = [...config.contexts].filter(([, x]) => x.cluster === name).map(([n]) => n);
    for (const [field, value] of [
      ['server', c.server],
      ['proxy-url', c.proxyUrl],
    ] as const) {
      if (!value) continue;
      endpoints.push({
        cluster: name,
        server: value.text,
        host: hostOf(value.text),
        field,
        line: value.line,
        column: value.column,
        contexts,
      });
    }
  }
  return { endpoints, problems: config.problems };
}

// ---------------------------------------------------------------------------------------------
// Flags

interface FlagValue {
  value: string;
  index: number;
}

interface KubeFlags {
  kubeconfig?: FlagValue;
  context?: FlagValue;
  contextFlag: string;
  cluster?: FlagValue;
  server?: FlagValue;
  serverFlag: string;
  /** Positional words (the subcommand path), in order. */
  words: string[];
  client: boolean;
  validate: boolean;
}

/** Global flags that take a value (so the word after them is not the subcommand). */
const KUBECTL_VALUE_FLAGS = new Set(
  (
    'kubeconfig context cluster user server s namespace n token as as-group as-uid certificate-authority ' +
    'client-certificate client-key cache-dir request-timeout tls-server-name username password v vmodule ' +
    'log-flush-frequency profile profile-output o output f filename l selector c container'
  ).split(' '),
);
const HELM_VALUE_FLAGS = new Set(
  (
    'kubeconfig kube-context kube-apiserver kube-as-user kube-as-group kube-ca-file kube-token kube-tls-server-name ' +
    'namespace n registry-config repository-cache repository-config burst-limit qps o output f values set set-string ' +
    'set-file set-json version repo timeout'
  ).split(' '),
);

/** Long flags without a value that change what is reached. */
const LONG_BOOLS = new Set(['client', 'validate', 'dry-run']);

function parseKubeFlags(argv: readonly string[], helm: boolean): KubeFlags {
  const flags: KubeFlags = {
    contextFlag: helm ? '--kube-context' : '--context',
    serverFlag: helm ? '--kube-apiserver' : '--server',
    words: [],
    client: false,
    validate: false,
  };
  const valueFlags = helm ? HELM_VALUE_FLAGS : KUBECTL_VALUE_FLAGS;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') break; // `kubectl exec pod -- cmd …`: the rest belongs to the container
    const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(arg);
    // Shorthands: `-shttps://10.0.0.1:6443` (not matched above), `-s=…`, `-s …`, `-nkube-system`, `-it`.
    // A long name written with one dash (`-context x`) keeps the long reading.
    if (/^-[A-Za-z]/.test(arg) && !(m && m[1].length > 1 && (valueFlags.has(m[1]) || LONG_BOOLS.has(m[1])))) {
      const s = shorthands(arg, (letter) => valueFlags.has(letter));
      if (!s.valueFlag) continue;
      const value =
        s.glued !== undefined
          ? { value: s.glued, index: i }
          : i + 1 < argv.length
            ? { value: argv[++i], index: i }
            : undefined;
      if (!helm && s.valueFlag === 's') {
        flags.server = value;
        flags.serverFlag = '-s';
      }
      continue;
    }
    if (!m) {
      flags.words.push(arg);
      continue;
    }
    const name = m[1];
    let value: FlagValue | undefined;
    if (m[2] !== undefined) value = { value: m[2], index: i };
    else if (valueFlags.has(name) && i + 1 < argv.length) value = { value: argv[++i], index: i };
    if (name === 'kubeconfig') flags.kubeconfig = value;
    else if (name === (helm ? 'kube-context' : 'context')) flags.context = value;
    else if (!helm && name === 'cluster') flags.cluster = value;
    else if (helm ? name === 'kube-apiserver' : name === 'server') flags.server = value;
    else if (name === 'client') flags.client = value === undefined || value.value !== 'false';
    else if (name === 'validate' || name === 'dry-run')
      flags.validate = flags.validate || name === 'validate' || value?.value === 'server';
  }
  return flags;
}

/** Subcommands that only read or write local files: no cluster is contacted. */
function localOnly(flags: KubeFlags, helm: boolean): string | undefined {
  const sub = flags.words[0];
  if (!sub) return helm ? 'helm without a subcommand reaches no cluster' : undefined;
  if (helm) {
    const local = [
      'completion',
      'create',
      'env',
      'help',
      'lint',
      'package',
      'plugin',
      'pull',
      'push',
      'registry',
      'repo',
      'search',
      'show',
      'inspect',
      'verify',
      'version',
      'dependency',
      'dep',
      'chart',
    ];
    if (local.includes(sub)) return `helm ${sub} reaches no cluster`;
    if (sub === 'template' && !flags.validate) return 'helm template (without --validate) reaches no cluster';
    return undefined;
  }
  const local = ['config', 'completion', 'help', 'plugin', 'kustomize', 'options'];
  if (local.includes(sub)) return `kubectl ${sub} only reads or edits local files; it reaches no cluster`;
  if (sub === 'version' && flags.client) return 'kubectl version --client reaches no cluster';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Kubeconfig files

interface KubeconfigFile {
  path: string;
  /** --kubeconfig must exist; files in $KUBECONFIG and the default are skipped when missing (as kubectl does). */
  required: boolean;
}

interface Placed {
  text: string;
  file: string;
  line: number;
  column: number;
}

interface ClusterEntry {
  file: string;
  line: number;
  server?: Placed;
  proxyUrl?: Placed;
}

interface ContextEntry {
  file: string;
  line: number;
  cluster?: string;
}

interface Kubeconfig {
  clusters: Map<string, ClusterEntry>;
  contexts: Map<string, ContextEntry>;
  currentContext?: Placed;
  problems: InputProblem[];
}

/** Reads one kubeconfig's text: clusters, contexts and current-context, with lines; never throws. */
export function parseKubeconfig(file: string, text: string): Kubeconfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const out: Kubeconfig = { clusters: new Map(), contexts: new Map(), problems: [] };
  for (const err of doc.errors) {
    const pos = err.linePos?.[0] ?? lines.linePos(err.pos[0]);
    out.problems.push({
      file,
      line: pos.line,
      column: pos.col,
      message: `kubeconfig is not valid YAML: ${firstLine(err.message)}`,
    });
  }
  if (out.problems.length > 0) return out;
  const at = (node: Node | null | undefined) => {
    const pos = lines.linePos(node?.range?.[0] ?? 0);
    return { line: pos.line, column: pos.col };
  };
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return out; // empty file
  if (!isMap(root)) {
    out.problems.push({
      file,
      ...at(root),
      message: 'a kubeconfig must be a mapping (apiVersion, clusters, contexts, …)',
    });
    return out;
  }
  const scalar = (node: unknown): Placed | undefined =>
    isScalar(node) && node.value !== null && node.value !== undefined && String(node.value) !== ''
      ? { text: String(node.value), file, ...at(node) }
      : undefined;
  const list = (key: string, inner: string, each: (name: string, body: YAMLMap | undefined, entry: Node) => void) => {
    const node = root.get(key, true) as Node | undefined;
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return;
    if (!isSeq(node)) {
      out.problems.push({ file, ...at(node), message: `${key} must be a list of { name, ${inner} }` });
      return;
    }
    for (const item of node.items as Node[]) {
      const name = isMap(item) ? scalar(item.get('name', true))?.text : undefined;
      if (!isMap(item) || name === undefined) {
        out.problems.push({ file, ...at(item), message: `each entry of ${key} needs a name` });
        continue;
      }
      const body = item.get(inner, true);
      if (body !== undefined && body !== null && !isMap(body) && !(isScalar(body) && body.value === null)) {
        out.problems.push({ file, ...at(body as Node), message: `${key}[${name}].${inner} must be a mapping` });
        continue;
      }
      each(name, isMap(body) ? body : undefined, item);
    }
  };
  list('clusters', 'cluster', (name, body, entry) => {
    if (out.clusters.has(name)) return;
    out.clusters.set(name, {
      file,
      line: at(entry).line,
      server: scalar(body?.get('server', true)),
      proxyUrl: scalar(body?.get('proxy-url', true)),
    });
  });
  list('contexts', 'context', (name, body, entry) => {
    if (out.contexts.has(name)) return;
    out.contexts.set(name, { file, line: at(entry).line, cluster: scalar(body?.get('cluster', true))?.text });
  });
  out.currentContext = scalar(root.get('current-context', true));
  return out;
}

interface Chosen {
  name: string;
  source: TargetSource;
  /** How it was chosen, for the chain: `argv[2] --context`, `$HELM_KUBECONTEXT`. */
  hop: string;
}

/** Merges the files like kubectl and follows context → cluster → server. */
async function kubeTargets(
  files: readonly KubeconfigFile[],
  chosen: { context?: Chosen; cluster?: Chosen; server?: Chosen },
  ctx: ExtractContext,
): Promise<Extraction> {
  const result: Extraction = { targets: [], problems: [], notes: [] };
  const merged: Kubeconfig = { clusters: new Map(), contexts: new Map(), problems: [] };
  const read: string[] = [];
  for (const f of files) {
    if (!f.required && !existsSync(f.path)) continue;
    const loaded = await readText(f.path);
    if ('problem' in loaded) {
      result.problems.push(loaded.problem);
      continue;
    }
    read.push(f.path);
    const one = parseKubeconfig(f.path, loaded.text);
    result.problems.push(...one.problems);
    for (const [k, v] of one.clusters) if (!merged.clusters.has(k)) merged.clusters.set(k, v);
    for (const [k, v] of one.contexts) if (!merged.contexts.has(k)) merged.contexts.set(k, v);
    merged.currentContext ??= one.currentContext;
  }
  const place = (file: string, line: number) => displayPlace(file, line, ctx);
  const fileList =
    read.map((f) => displayPlace(f, undefined, ctx)).join(', ') ||
    files.map((f) => displayPlace(f.path, undefined, ctx)).join(', ');

  let context = chosen.context;
  if (!context && merged.currentContext) {
    const cc = merged.currentContext;
    context = {
      name: cc.text,
      source: fileSource(cc.file, cc.line, cc.column),
      hop: `current-context, ${place(cc.file, cc.line)}`,
    };
  }

  if (!context) {
    if (chosen.server) {
      result.targets.push(serverTarget(chosen.server));
      return result;
    }
    if (read.length === 0) {
      const inCluster = ctx.env.KUBERNETES_SERVICE_HOST;
      if (inCluster) {
        result.targets.push({
          kind: 'url',
          name: 'in-cluster API server',
          host: inCluster,
          source: envSource('KUBERNETES_SERVICE_HOST'),
          chain: [`no kubeconfig: in-cluster config, $KUBERNETES_SERVICE_HOST=${inCluster}`],
        });
      } else {
        result.notes.push(`no kubeconfig (${fileList}): kubectl would try http://localhost:8080`);
        result.targets.push({
          kind: 'url',
          name: 'http://localhost:8080',
          host: 'localhost',
          source: { kind: 'default', detail: 'no kubeconfig' },
          chain: ['no kubeconfig: kubectl default http://localhost:8080'],
        });
      }
      return result;
    }
    result.problems.push({
      file: read[0],
      line: 1,
      column: 1,
      message: `no current-context is set in ${fileList} and no --context was given, so the cluster is unknown`,
    });
    return result;
  }

  const entry = merged.contexts.get(context.name);
  if (!entry) {
    const where =
      context.source.kind === 'file'
        ? { file: context.source.file!, line: context.source.line!, column: context.source.column }
        : { file: read[0] ?? files[0]?.path ?? '', line: 1, column: 1 };
    const known = [...merged.contexts.keys()];
    result.problems.push({
      ...where,
      message: `kube context "${context.name}" (${context.hop}) is not defined in ${fileList}${known.length ? `; known contexts: ${known.join(', ')}` : ''}`,
    });
    return result;
  }
  const how = context.source.kind === 'argv' || context.source.kind === 'env' ? `${context.hop}; ` : '';
  const chain = [`context ${context.name} (${how}${place(entry.file, entry.line)})`];
  const clusterName = chosen.cluster?.name ?? entry.cluster;
  const base = { kind: 'kube-context' as const, name: context.name, kubeContext: context.name, source: context.source };

  if (chosen.server) {
    const host = hostOf(chosen.server.name);
    result.targets.push({ ...base, host, chain: [...chain, `server ${chosen.server.name} (${chosen.server.hop})`] });
    return result;
  }
  if (!clusterName) {
    result.problems.push({
      file: entry.file,
      line: entry.line,
      message: `kube context "${context.name}" names no cluster`,
    });
    return result;
  }
  const cluster = merged.clusters.get(clusterName);
  if (!cluster) {
    result.problems.push({
      file: entry.file,
      line: entry.line,
      message: `kube context "${context.name}" uses cluster "${clusterName}"${chosen.cluster ? ` (${chosen.cluster.hop})` : ''}, which is not defined in ${fileList}`,
    });
    return result;
  }
  if (!cluster.server) {
    result.problems.push({ file: cluster.file, line: cluster.line, message: `cluster "${clusterName}" has no server` });
    return result;
  }
  const s = cluster.server;
  result.targets.push({
    ...base,
    host: hostOf(s.text),
    chain: [...chain, `cluster ${clusterName} → server ${s.text} (${place(s.file, s.line)})`],
  });
  if (cluster.proxyUrl) {
    const p = cluster.proxyUrl;
    result.targets.push({
      kind: 'url',
      name: p.text,
      host: hostOf(p.text),
      source: fileSource(p.file, p.line, p.column),
      chain: [...chain, `cluster ${clusterName} → proxy-url ${p.text} (${place(p.file, p.line)})`],
    });
  }
  return result;
}

function serverTarget(server: Chosen): Target {
  return {
    kind: 'url',
    name: server.name,
    host: hostOf(server.name),
    source: server.source,
    chain: [`server ${server.name} (${server.hop})`],
  };
}

/** `https://10.0.0.1:6443` → `10.0.0.1`; `10.0.0.1:6443` (no scheme) too. */
function hostOf(server: string): string {
  return hostsOfUrl(server)[0] ?? hostOfSpec(server);
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
