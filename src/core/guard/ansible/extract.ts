/**
 * The Ansible family's extractor: which hosts `ansible`, `ansible-playbook`, `ansible-inventory`
 * or `ansible-console` will reach, and how. The inventory comes from `-i`, else
 * `$ANSIBLE_INVENTORY`, else ansible.cfg `[defaults] inventory`, else /etc/ansible/hosts; `--limit`
 * and the host pattern narrow it; extra vars (`-e`) override every host's variables. Each host's
 * connection decides the target: a network host (its `ansible_host`), the controller itself
 * (`local`), or the container engine a container connection talks to (one target per engine).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { dockerEngineTarget, extractDocker } from '../families/docker';
import { formatPlace, hostOfSpec, hostsOfUrl } from '../hostspec';
import type { ExtractContext, Extraction, Extractor, InputProblem, Target, TargetSource } from '../types';
import { readInventory } from './ansibleInventory';
import { parseAnsibleArgs, type AnsibleArgs, type AnsibleCommand, type ArgValue } from './argv';
import {
  expandPath,
  findAnsibleCfg,
  readAnsibleCfg,
  setting,
  settingList,
  type AnsibleCfg,
  type PathContext,
} from './config';
import { loadExtraVars, type ExtraVars } from './extraVars';
import { shlexSplit } from './pyLiteral';
import type { InvHost, Inventory, Place } from './inventory';
import { selectHosts } from './limit';

const COMMANDS: readonly AnsibleCommand[] = ['ansible', 'ansible-playbook', 'ansible-inventory', 'ansible-console'];
const DEFAULT_INVENTORY = '/etc/ansible/hosts';

export const extractAnsible: Extractor = async (argv, ctx) => {
  const name = basename(argv[0] ?? '');
  const command: AnsibleCommand = (COMMANDS as readonly string[]).includes(name)
    ? (name as AnsibleCommand)
    : 'ansible-playbook';
  const args = parseAnsibleArgs(command, argv);
  if (args.connectsToNothing)
    return { targets: [], problems: [], notes: [...args.notes, `${command}: ${args.connectsToNothing}`] };

  const pctx: PathContext = { cwd: ctx.cwd, env: ctx.env, home: ctx.home };
  const cfg = readAnsibleCfg(findAnsibleCfg(pctx));
  const sources = inventorySources(args, cfg, pctx);
  const extra = loadExtraVars(args.extraVars, pctx);
  const notes = [...args.notes, sources.note, ...extra.notes];
  const problems: InputProblem[] = [...extra.problems];

  const ignoreExtensions = settingList(
    setting(
      cfg,
      pctx,
      ['ANSIBLE_INVENTORY_IGNORE'],
      [
        ['defaults', 'inventory_ignore_extensions'],
        ['inventory', 'ignore_extensions'],
      ],
    ),
  );
  const ignorePatterns = settingList(
    setting(
      cfg,
      pctx,
      ['ANSIBLE_INVENTORY_IGNORE_REGEX'],
      [
        ['defaults', 'inventory_ignore_patterns'],
        ['inventory', 'ignore_patterns'],
      ],
    ),
  );

  const targets: Target[] = [];
  const seen = new Set<string>();
  for (const playbookDir of playbookDirs(args, pctx)) {
    const read = await readInventory(
      sources.specs.map((s) => s.spec),
      {
        cwd: ctx.cwd,
        env: ctx.env,
        parser: ctx.overrides?.size ? 'builtin' : ctx.inventoryParser,
        playbookDir,
        ignoreExtensions,
        ignorePatterns,
        overrides: ctx.overrides,
      },
    );
    const inv = read.inventory;
    problems.push(...inv.problems);
    notes.push(...inv.notes);
    if (read.parser === 'ansible') notes.push('inventory read with ansible-inventory');
    const reached = reachedHosts(args, inv, ctx, problems, notes);
    const found = await targetsFor(reached, inv, args, extra, cfg, ctx, sources.specs);
    problems.push(...found.problems);
    notes.push(...found.notes);
    for (const t of found.targets) {
      const key = JSON.stringify(t);
      if (!seen.has(key)) {
        seen.add(key);
        targets.push(t);
      }
    }
    problems.push(...vaultedAddresses(reached.hosts, inv, extra));
  }
  return { targets, problems: dedupeProblems(problems), notes: [...new Set(notes)] };
};

interface SourceSpec {
  /** What `-i` would take: an absolute path, or an inline host list. */
  spec: string;
  origin: TargetSource;
}

/** The inventory sources, as Ansible picks them: `-i` (all of them), else the environment, else ansible.cfg, else the default. */
function inventorySources(args: AnsibleArgs, cfg: AnsibleCfg, ctx: PathContext): { specs: SourceSpec[]; note: string } {
  if (args.inventories.length) {
    const specs = args.inventories.map(({ value, argIndex }) => ({
      spec: value.includes(',') ? value : expandPath(value, ctx.cwd, ctx),
      origin: { kind: 'argv', argIndex } as TargetSource,
    }));
    return { specs, note: `inventory from -i: ${specs.map((s) => display(s.spec, ctx.cwd)).join(', ')}` };
  }
  const s = setting(cfg, ctx, ['ANSIBLE_INVENTORY'], [['defaults', 'inventory']]);
  if (s) {
    const specs = s.value
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x)
      .map((x) => ({
        spec: expandPath(x, s.basedir, ctx),
        origin: (s.envVar
          ? { kind: 'env', envVar: s.envVar }
          : { kind: 'config', file: s.file, line: s.line, detail: `ansible.cfg inventory` }) as TargetSource,
      }));
    const from = s.envVar ? `$${s.envVar}` : display(s.origin, ctx.cwd);
    return { specs, note: `inventory from ${from}: ${specs.map((x) => display(x.spec, ctx.cwd)).join(', ')}` };
  }
  if (existsSync(DEFAULT_INVENTORY)) {
    return {
      specs: [{ spec: DEFAULT_INVENTORY, origin: { kind: 'default', detail: DEFAULT_INVENTORY } }],
      note: `inventory: ${DEFAULT_INVENTORY} (default)`,
    };
  }
  return {
    specs: [],
    note: `no inventory (no -i, $ANSIBLE_INVENTORY or ansible.cfg inventory, and no ${DEFAULT_INVENTORY}): only the implicit localhost`,
  };
}

/** The directories whose group_vars/host_vars apply besides the inventory's: the playbooks', or `--playbook-dir`. */
function playbookDirs(args: AnsibleArgs, ctx: PathContext): (string | undefined)[] {
  if (args.playbookDir) return [expandPath(args.playbookDir.value, ctx.cwd, ctx)];
  if (args.command !== 'ansible-playbook') return [undefined];
  const dirs = new Set<string>();
  for (const p of args.playbooks) {
    const path = resolve(ctx.cwd, p.value);
    try {
      if (statSync(path).isFile()) dirs.add(dirname(path));
    } catch {
      // A collection playbook (ns.coll.play) or a missing file: no playbook directory.
    }
  }
  return dirs.size ? [...dirs] : [undefined];
}

interface Reached {
  hosts: string[];
  implicitLocalhost?: string;
}

function reachedHosts(
  args: AnsibleArgs,
  inv: Inventory,
  ctx: ExtractContext,
  problems: InputProblem[],
  notes: string[],
): Reached {
  // ansible-playbook: the plays' `hosts:` are not read, so every inventory host counts (then --limit).
  const pattern = args.pattern?.value ?? 'all';
  const sel = selectHosts(inv, pattern, { limit: args.limit?.value, cwd: ctx.cwd });
  problems.push(
    ...sel.problems.map((p) => (p.file === '--limit' ? { ...p, file: argvPlace(args.limit ?? args.pattern) } : p)),
  );
  notes.push(...sel.notes);
  if (sel.unmatched.length && inv.unevaluated.length) {
    // A name we cannot see may be a group made by a source we did not evaluate: do not narrow.
    const all = selectHosts(inv, 'all', { cwd: ctx.cwd });
    notes.push(
      `${sel.unmatched.join(', ')} matched nothing, but ${inv.unevaluated.length} inventory source(s) were not evaluated: every host counts`,
    );
    return { hosts: all.hosts };
  }
  const total = inv.hosts.size;
  if (args.limit)
    notes.push(`--limit ${args.limit.value} kept ${sel.hosts.length} of ${total} host${total === 1 ? '' : 's'}`);
  if (args.pattern && args.pattern.value !== 'all')
    notes.push(
      `host pattern ${args.pattern.value} selects ${sel.hosts.length + (sel.implicitLocalhost ? 1 : 0)} host(s)`,
    );
  if (sel.unmatched.length) notes.push(`no group or host matches ${sel.unmatched.join(', ')}`);
  return { hosts: sel.hosts, implicitLocalhost: sel.implicitLocalhost };
}

function argvPlace(v: ArgValue | undefined): string {
  return v ? `argv[${v.argIndex}]` : 'argv';
}

type Kind = 'local' | 'docker' | 'docker_api' | 'podman' | 'lxd' | 'network';

const LOCAL = new Set([
  'local',
  'redirected_local',
  'chroot',
  'community.general.chroot',
  'nsenter',
  'community.docker.nsenter',
  'lxc',
  'community.general.lxc',
  'libvirt_lxc',
  'community.libvirt.libvirt_lxc',
  'jail',
  'community.general.jail',
  'zone',
  'community.general.zone',
  'iocage',
  'community.general.iocage',
  'buildah',
  'containers.podman.buildah',
]);
const DOCKER = new Set(['docker', 'community.docker.docker', 'community.general.docker']);
const DOCKER_API = new Set(['docker_api', 'community.docker.docker_api']);
const PODMAN = new Set(['podman', 'containers.podman.podman']);
const LXD = new Set(['lxd', 'community.general.lxd']);
const SSH_LIKE = new Set(['smart', 'ssh', 'paramiko', 'paramiko_ssh', 'libssh', 'ansible.netcommon.libssh']);

function kindOf(connection: string): Kind {
  if (LOCAL.has(connection)) return 'local';
  if (DOCKER.has(connection)) return 'docker';
  if (DOCKER_API.has(connection)) return 'docker_api';
  if (PODMAN.has(connection)) return 'podman';
  if (LXD.has(connection)) return 'lxd';
  return 'network';
}

/** A variable's value and where it came from, after extra vars. */
interface Found {
  value: unknown;
  where: string;
  source?: TargetSource;
}

async function targetsFor(
  reached: Reached,
  inv: Inventory,
  args: AnsibleArgs,
  extra: ExtraVars,
  cfg: AnsibleCfg,
  ctx: ExtractContext,
  specs: SourceSpec[],
): Promise<Extraction> {
  const pctx: PathContext = { cwd: ctx.cwd, env: ctx.env, home: ctx.home };
  const targets: Target[] = [];
  const problems: InputProblem[] = [];
  const notes: string[] = [];
  const engines = new Map<string, EngineGroup>();
  const defaultConnection = connectionDefault(args, cfg, pctx);
  const inline = new Map(specs.filter((s) => s.spec.includes(',')).map((s) => [s.spec, s.origin]));

  const lookup = (h: InvHost, key: string): Found | undefined => {
    if (key in extra.vars) {
      const s = extra.sources[key];
      const where = s.place
        ? `${formatPlace(s.place.file, s.place.line, ctx.cwd)}, -e argv[${s.argIndex}]`
        : `-e argv[${s.argIndex}]`;
      return { value: extra.vars[key], where, source: { kind: 'argv', argIndex: s.argIndex } };
    }
    if (key in h.vars) {
      const place = h.varSources[key];
      return {
        value: h.vars[key],
        where: place ? formatPlace(place.file, place.line, ctx.cwd) : 'inventory',
        source: place && fileSource(place, inline),
      };
    }
    return undefined;
  };

  for (const name of reached.hosts) {
    const h = inv.hosts.get(name) as InvHost;
    const source = fileSource(h.definedAt, inline);
    const connVar = lookup(h, 'ansible_connection');
    const connection = normaliseConnection(
      connVar && isSet(connVar.value) ? String(connVar.value) : defaultConnection.value,
    );
    const connWhere = connVar && isSet(connVar.value) ? connVar.where : defaultConnection.where;
    const kind = kindOf(connection);

    if (kind === 'local') {
      targets.push({ kind: 'local', name, source, chain: [name, `ansible_connection=${connection} (${connWhere})`] });
      continue;
    }
    if (kind === 'lxd') {
      // The container runs on an LXD remote: `local` (the default) or a named remote of `lxc remote`.
      const remote = lookup(h, 'ansible_lxd_remote');
      if (!remote || !isSet(remote.value) || String(remote.value) === 'local') {
        targets.push({
          kind: 'local',
          name,
          source,
          chain: [name, `ansible_connection=${connection} (${connWhere}): the local LXD`],
        });
      } else {
        const chain = [name, `ansible_lxd_remote ${String(remote.value)} (${remote.where})`];
        targets.push({ kind: 'host', name, host: String(remote.value), source, chain });
      }
      continue;
    }
    if (kind === 'network') {
      let found: Found | undefined;
      let foundKey = '';
      for (const key of addressVars(connection)) {
        const f = lookup(h, key);
        if (f && isSet(f.value)) {
          found = f;
          foundKey = key;
        }
      }
      const chain = [name];
      if (!SSH_LIKE.has(connection)) chain.push(`ansible_connection=${connection} (${connWhere})`);
      let host = name;
      if (found && typeof found.value !== 'object') {
        const text = String(found.value).trim();
        const templated = text.includes('{{') ? renderSimple(text, { ...h.vars, ...extra.vars }, name) : text;
        host = templated.includes('@') || templated.startsWith('[') ? hostOfSpec(templated) : templated;
        chain.push(
          `${foundKey} ${host} (${found.where})${templated.includes('{{') ? ' — a Jinja template the guard does not evaluate' : ''}`,
        );
      }
      targets.push({ kind: 'host', name, host, source, chain });
      if (SSH_LIKE.has(connection)) {
        for (const jump of proxyJumps(h, args, cfg, pctx, lookup)) {
          targets.push({
            kind: 'host',
            name,
            host: jump.host,
            source: jump.source ?? source,
            chain: [name, `ProxyJump ${jump.spec} (${jump.where})`],
          });
        }
      }
      continue;
    }

    // A container connection: the host is a container; what is reached is its engine.
    const g = engineGroupOf(kind, h, lookup, cfg, pctx);
    let e = engines.get(g.key);
    if (!e) engines.set(g.key, (e = { tool: g.tool, args: g.args, found: g.found, hosts: [], connections: new Set() }));
    e.hosts.push(name);
    e.connections.add(connection);
  }

  for (const e of engines.values()) {
    const out = await engineTargets(e, ctx);
    targets.push(...out.targets);
    problems.push(...out.problems);
    notes.push(...out.notes);
  }

  if (reached.implicitLocalhost) {
    targets.push({
      kind: 'local',
      name: reached.implicitLocalhost,
      source: { kind: 'default', detail: 'implicit localhost' },
      chain: [reached.implicitLocalhost, 'implicit localhost (not in the inventory): ansible_connection=local'],
    });
  }
  return { targets, problems, notes };
}

interface Jump {
  spec: string;
  host: string;
  where: string;
  source?: TargetSource;
}

/**
 * The jump hosts an ssh connection goes through: `-J` / `-o ProxyJump=` in `--ssh-common-args`,
 * `--ssh-extra-args`, the host's `ansible_ssh_common_args` / `ansible_ssh_extra_args`, and
 * ansible.cfg's `[ssh_connection]` `ssh_args` / `ssh_common_args` / `ssh_extra_args`. Each is a
 * target: a jump through production reaches production.
 */
function proxyJumps(
  h: InvHost,
  args: AnsibleArgs,
  cfg: AnsibleCfg,
  ctx: PathContext,
  lookup: (h: InvHost, key: string) => Found | undefined,
): Jump[] {
  const texts: { text: string; where: string; source?: TargetSource }[] = [];
  for (const a of args.sshArgs)
    texts.push({ text: a.value, where: `argv[${a.argIndex}]`, source: { kind: 'argv', argIndex: a.argIndex } });
  for (const key of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const f = lookup(h, key);
    if (f && isSet(f.value) && typeof f.value !== 'object')
      texts.push({ text: String(f.value), where: `${key}, ${f.where}`, source: f.source });
  }
  for (const [key, env] of [
    ['ssh_args', 'ANSIBLE_SSH_ARGS'],
    ['ssh_common_args', 'ANSIBLE_SSH_COMMON_ARGS'],
    ['ssh_extra_args', 'ANSIBLE_SSH_EXTRA_ARGS'],
  ] as const) {
    const s = setting(cfg, ctx, [env], [['ssh_connection', key]]);
    if (s) texts.push({ text: s.value, where: `${key}, ${display(s.origin, ctx.cwd)}` });
  }
  const out: Jump[] = [];
  for (const t of texts) {
    let words: string[];
    try {
      words = shlexSplit(t.text);
    } catch {
      words = t.text.split(/\s+/);
    }
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      let list: string | undefined;
      if (w === '-J') list = words[++i];
      else if (w.startsWith('-J')) list = w.slice(2);
      else if (w === '-o' || w.startsWith('-o')) {
        const opt = w === '-o' ? words[++i] : w.slice(2);
        const m = /^\s*proxyjump\s*(?:=|\s)\s*(.+)$/i.exec(opt ?? '');
        if (m) list = m[1];
      }
      if (!list || list.toLowerCase() === 'none') continue;
      for (const spec of list
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)) {
        const host = spec.includes('://') ? (hostsOfUrl(spec)[0] ?? '') : hostOfSpec(spec);
        if (host) out.push({ spec, host, where: t.where, source: t.source });
      }
    }
  }
  return out;
}

/** `-c`, else $ANSIBLE_TRANSPORT / ansible.cfg `transport`, else `smart` (ssh). Inventory variables override it. */
function connectionDefault(args: AnsibleArgs, cfg: AnsibleCfg, ctx: PathContext): { value: string; where: string } {
  if (args.connection) return { value: args.connection.value, where: `-c argv[${args.connection.argIndex}]` };
  const s = setting(cfg, ctx, ['ANSIBLE_TRANSPORT'], [['defaults', 'transport']]);
  if (s) return { value: s.value, where: display(s.origin, ctx.cwd) };
  return { value: 'smart', where: 'default' };
}

function normaliseConnection(c: string): string {
  return c.trim().replace(/^ansible\.(builtin|legacy)\./, '');
}

/** The variables naming the address, lowest precedence first (the last one set wins, as in Ansible). */
function addressVars(connection: string): string[] {
  const short = connection.split('.').pop() ?? connection;
  const vars = ['ansible_host'];
  if (SSH_LIKE.has(connection)) vars.push('ansible_ssh_host');
  if (short === 'paramiko_ssh' || short === 'paramiko') vars.push('ansible_paramiko_host');
  else if (!SSH_LIKE.has(connection)) vars.push(`ansible_${short}_host`);
  return vars;
}

interface EngineGroup {
  tool: 'docker' | 'podman' | 'docker_api';
  /** docker/podman: the connection's extra CLI arguments; docker_api: the engine URL (or none). */
  args: string[];
  found?: Found;
  hosts: string[];
  connections: Set<string>;
}

/**
 * How a container connection reaches its engine. The docker and podman connections run the CLI
 * (`docker [extra args] exec …`), so the engine is whatever that CLI would use (-H, --context,
 * $DOCKER_HOST, docker contexts…); docker_api uses `ansible_docker_docker_host` or $DOCKER_HOST.
 */
function engineGroupOf(
  kind: 'docker' | 'docker_api' | 'podman',
  h: InvHost,
  lookup: (h: InvHost, key: string) => Found | undefined,
  cfg: AnsibleCfg,
  ctx: PathContext,
): { key: string; tool: EngineGroup['tool']; args: string[]; found?: Found } {
  if (kind === 'docker_api') {
    const v = lookup(h, 'ansible_docker_docker_host');
    const found =
      v && isSet(v.value)
        ? v
        : ctx.env.DOCKER_HOST
          ? {
              value: ctx.env.DOCKER_HOST,
              where: '$DOCKER_HOST',
              source: { kind: 'env', envVar: 'DOCKER_HOST' } as TargetSource,
            }
          : undefined;
    const url = found ? String(found.value) : '';
    return { key: `api\0${url}`, tool: 'docker_api', args: url ? [url] : [], found };
  }
  const [varName, envNames, ini]: [string, string[], [string, string][]] =
    kind === 'docker'
      ? ['ansible_docker_extra_args', [], [['docker_connection', 'extra_cli_args']]]
      : ['ansible_podman_extra_args', ['ANSIBLE_PODMAN_EXTRA_ARGS'], [['defaults', 'podman_extra_args']]];
  let found = lookup(h, varName);
  if (!found || !isSet(found.value)) {
    const s = setting(cfg, ctx, envNames, ini);
    found = s
      ? {
          value: s.value,
          where: s.envVar ? `$${s.envVar}` : display(s.origin, ctx.cwd),
          source: s.envVar ? { kind: 'env', envVar: s.envVar } : { kind: 'config', file: s.file, line: s.line },
        }
      : undefined;
  }
  const args = found
    ? String(found.value)
        .split(/\s+/)
        .filter((w) => w)
    : [];
  return { key: `${kind}\0${args.join(' ')}`, tool: kind, args, found };
}

/** One engine per distinct (tool, arguments): the docker family resolves it as the CLI would. */
async function engineTargets(group: EngineGroup, ctx: ExtractContext): Promise<Extraction> {
  const shown =
    group.hosts.length > 3
      ? `${group.hosts.slice(0, 3).join(', ')} +${group.hosts.length - 3} more`
      : group.hosts.join(', ');
  const via = `ansible_connection=${[...group.connections].join('/')} (${shown})`;
  if (group.tool === 'docker_api') {
    const f = group.found;
    const source: TargetSource = f?.source ?? { kind: 'default', detail: 'docker_api: unix:///var/run/docker.sock' };
    return {
      targets: [dockerEngineTarget(group.args[0], source, f ? `${via} → ${f.where}` : via)],
      problems: [],
      notes: [],
    };
  }
  const out = await extractDocker([group.tool, ...group.args, 'exec'], ctx);
  const hop = group.found ? `${via} with ${group.args.join(' ')} (${group.found.where})` : via;
  return {
    ...out,
    targets: out.targets.map((t) => ({
      ...t,
      // The extra arguments were not typed on this command line: point at where they were set.
      source: t.source.kind === 'argv' ? (group.found?.source ?? t.source) : t.source,
      // Hops naming our stand-in command line (`argv[2] -H …`) are replaced by `hop`.
      chain: [hop, ...t.chain.filter((c) => !/^argv\[\d+\]/.test(c))],
    })),
  };
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/** `{{ var }}` replaced by the host's variable (or inventory_hostname), a few levels deep; anything else is left as is. */
function renderSimple(text: string, vars: Record<string, unknown>, hostname: string): string {
  let out = text;
  for (let i = 0; i < 5 && out.includes('{{'); i++) {
    const next = out.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, (all, name: string) => {
      if (name === 'inventory_hostname') return hostname;
      if (name === 'inventory_hostname_short') return hostname.split('.')[0];
      const v = vars[name];
      return typeof v === 'string' || typeof v === 'number' ? String(v) : all;
    });
    if (next === out) break;
    out = next;
  }
  return out;
}

/** A host defined in a file → that file:line; in an inline `-i a,b,` list → that argument. */
function fileSource(place: Place, inline: Map<string, TargetSource>): TargetSource {
  const fromArgv = inline.get(place.file);
  if (fromArgv) return fromArgv;
  return place.line > 0 ? { kind: 'file', file: place.file, line: place.line } : { kind: 'file', file: place.file };
}

/** An address in a vault-encrypted value cannot be checked: the guard cannot decide. */
function vaultedAddresses(hosts: string[], inv: Inventory, extra: ExtraVars): InputProblem[] {
  const out: InputProblem[] = [];
  for (const name of hosts) {
    const h = inv.hosts.get(name) as InvHost;
    for (const key of ['ansible_host', 'ansible_ssh_host']) {
      const v = key in extra.vars ? extra.vars[key] : h.vars[key];
      if (v !== null && typeof v === 'object') {
        const place = h.varSources[key] ?? h.definedAt;
        out.push({
          file: place.file,
          line: place.line,
          message: `${key} of ${name} is vault-encrypted: the guard cannot tell where it points`,
        });
      }
    }
  }
  return out;
}

function dedupeProblems(problems: InputProblem[]): InputProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}\0${p.line}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function display(path: string, cwd: string): string {
  return formatPlace(path, undefined, cwd);
}
