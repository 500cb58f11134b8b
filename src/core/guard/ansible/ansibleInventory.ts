/**
 * The same Inventory model from the real `ansible-inventory -i … --list`, run through the one
 * process runner, and the choice between it and the built-in parser (`builtin | ansible | auto`).
 * `ansible-inventory` gives hosts, groups and merged host variables but no line numbers: those
 * come from the built-in parser wherever it agrees.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenFromSignal } from '../../cancellation';
import { CancelledError, InfraSandboxError, run, which, type CommandSpec } from '../../exec';
import type { InputProblem, InventoryParserChoice } from '../types';
import { groupDepths, loadInventory, precedenceOrder, type InvGroup, type InvHost, type Inventory } from './inventory';
import { isPlainObject } from './yamlFile';

export interface ReadInventoryOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  parser: InventoryParserChoice;
  /** The playbook directory whose group_vars/host_vars apply too (`--playbook-dir`). */
  playbookDir?: string;
  ignoreExtensions?: readonly string[];
  ignorePatterns?: readonly string[];
  /** Unsaved editor text by absolute path (the built-in parser only). */
  overrides?: ReadonlyMap<string, string>;
  /** Time allowed to `ansible-inventory` (default 30 s). */
  timeoutMs?: number;
}

export interface InventoryRead {
  inventory: Inventory;
  /** The parser that produced it. */
  parser: 'builtin' | 'ansible';
}

export const DEFAULT_ANSIBLE_TIMEOUT_MS = 30_000;

/** Reads inventory `sources` (what `-i` takes) with the chosen parser; never throws for bad input. */
export async function readInventory(sources: string[], opts: ReadInventoryOptions): Promise<InventoryRead> {
  const builtinOpts = {
    cwd: opts.cwd,
    basedirs: opts.playbookDir ? [opts.playbookDir] : [],
    ignoreExtensions: opts.ignoreExtensions,
    ignorePatterns: opts.ignorePatterns,
    overrides: opts.overrides,
  };
  const useAnsible =
    opts.parser === 'ansible' || (opts.parser === 'auto' && !!which('ansible-inventory', opts.env.PATH));
  if (!useAnsible || sources.length === 0)
    return { inventory: await loadInventory(sources, builtinOpts), parser: 'builtin' };

  const [builtin, listed] = await Promise.all([
    loadInventory(sources, builtinOpts),
    runAnsibleInventory(sources, opts),
  ]);
  if ('error' in listed) {
    if (opts.parser === 'ansible') {
      return {
        inventory: {
          ...builtin,
          problems: [{ file: 'ansible-inventory', line: 0, message: listed.error }, ...builtin.problems],
        },
        parser: 'ansible',
      };
    }
    builtin.notes.unshift(`ansible-inventory failed (${listed.error.split('\n')[0]}); the built-in parser was used`);
    return { inventory: builtin, parser: 'builtin' };
  }
  const inventory = inventoryFromListing(listed.listing, builtin, sources);
  inventory.problems.push(...unparsedProblems(listed.stderr, builtin));
  return { inventory, parser: 'ansible' };
}

/** The `ansible-inventory --list` command (STYLE habit 4: built here, run by the runner). */
export function ansibleInventoryCommand(sources: readonly string[], playbookDir?: string): CommandSpec<unknown> {
  const args = [...sources.flatMap((s) => ['-i', s]), '--list'];
  if (playbookDir) args.push('--playbook-dir', playbookDir);
  return {
    command: 'ansible-inventory',
    args,
    parse: (o) => JSON.parse(o.stdout) as unknown,
  };
}

/**
 * The environment for `ansible-inventory`: the user's, ANSIBLE_* settings included, but nothing
 * that writes to the user's files (log, temp, inventory cache, bytecode) and nothing that prompts.
 */
export function ansibleInventoryEnv(env: NodeJS.ProcessEnv, tempDir: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  delete out.ANSIBLE_FORCE_COLOR;
  return {
    ...out,
    ANSIBLE_LOCAL_TEMP: tempDir,
    ANSIBLE_LOG_PATH: '/dev/null',
    ANSIBLE_INVENTORY_CACHE: 'False',
    ANSIBLE_ASK_VAULT_PASS: 'False',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_VERBOSITY: '0',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

async function runAnsibleInventory(
  sources: string[],
  opts: ReadInventoryOptions,
): Promise<{ listing: unknown; stderr: string } | { error: string }> {
  const temp = await mkdtemp(join(tmpdir(), 'isb-ansible-'));
  const abort = new AbortController();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_ANSIBLE_TIMEOUT_MS;
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const spec = ansibleInventoryCommand(sources, opts.playbookDir);
    let stderr = '';
    const out = await run(
      { ...spec, parse: (o) => ((stderr = o.stderr), o.stdout) },
      {
        cwd: opts.cwd,
        env: ansibleInventoryEnv(opts.env, temp),
        token: tokenFromSignal(abort.signal),
        killGraceMs: 1000,
      },
    );
    try {
      return { listing: JSON.parse(out) as unknown, stderr };
    } catch {
      return { error: 'ansible-inventory --list printed something that is not JSON' };
    }
  } catch (err) {
    if (err instanceof CancelledError)
      return { error: `ansible-inventory did not finish within ${timeoutMs / 1000} s` };
    if (err instanceof InfraSandboxError) return { error: err.message };
    return { error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * The Inventory model from `ansible-inventory --list` JSON. Host and group order, where each host
 * was defined and where its variables were set come from `builtin` wherever it agrees.
 */
export function inventoryFromListing(
  listing: unknown,
  builtin: Inventory | undefined,
  sources: readonly string[],
): Inventory {
  const data = isPlainObject(listing) ? listing : {};
  const meta = isPlainObject(data._meta) ? data._meta : {};
  const hostvars = isPlainObject(meta.hostvars) ? meta.hostvars : {};

  const raw = new Map<string, { hosts: string[]; children: string[] }>();
  const ensure = (g: string) => {
    let r = raw.get(g);
    if (!r) raw.set(g, (r = { hosts: [], children: [] }));
    return r;
  };
  ensure('all');
  ensure('ungrouped');
  for (const [name, v] of Object.entries(data)) {
    if (name === '_meta' || !isPlainObject(v)) continue;
    const r = ensure(name);
    if (Array.isArray(v.hosts)) r.hosts.push(...v.hosts.map(String));
    if (Array.isArray(v.children)) {
      for (const c of v.children.map(String)) {
        r.children.push(c);
        ensure(c);
      }
    }
  }

  // Group and host order: the built-in parser's (Ansible's insertion order) where it knows them.
  const groupOrder = orderLike([...raw.keys()], builtin ? [...builtin.groups.keys()] : []);
  const parents = new Map<string, string[]>(groupOrder.map((g) => [g, []]));
  for (const [g, r] of raw) for (const c of r.children) parents.get(c)?.push(g);
  const depth = groupDepths(new Map(groupOrder.map((g) => [g, { parents: parents.get(g) ?? [] }])));

  const membership = new Map<string, Set<string>>();
  const visit = (group: string, seen: Set<string>) => {
    if (seen.has(group)) return;
    seen.add(group);
    for (const h of raw.get(group)?.hosts ?? []) {
      let m = membership.get(h);
      if (!m) membership.set(h, (m = new Set()));
      m.add(group);
    }
    for (const c of raw.get(group)?.children ?? []) visit(c, seen);
  };
  visit('all', new Set());
  for (const g of groupOrder) visit(g, new Set());

  const groups = new Map<string, InvGroup>();
  for (const g of groupOrder) {
    const b = builtin?.groups.get(g);
    groups.set(g, {
      name: g,
      hosts: raw.get(g)?.hosts ?? [],
      children: raw.get(g)?.children ?? [],
      parents: parents.get(g) ?? [],
      vars: b?.vars ?? {},
      varSources: b?.varSources ?? {},
      depth: depth.get(g) ?? 0,
      priority: b?.priority ?? 1,
      definedAt: b?.definedAt,
    });
  }
  const ancestors = (g: string, acc: Set<string>) => {
    for (const p of parents.get(g) ?? []) {
      if (!acc.has(p)) {
        acc.add(p);
        ancestors(p, acc);
      }
    }
  };

  const hostOrder = orderLike(
    [...new Set([...membership.keys(), ...Object.keys(hostvars)])],
    builtin ? [...builtin.hosts.keys()] : [],
  );
  const fallbackPlace = { file: sources.find((s) => !s.includes(',')) ?? sources[0] ?? '', line: 0 };
  const hosts = new Map<string, InvHost>();
  for (const name of hostOrder) {
    const vars = isPlainObject(hostvars[name]) ? (hostvars[name] as Record<string, unknown>) : {};
    const member = new Set<string>();
    for (const g of membership.get(name) ?? []) {
      member.add(g);
      ancestors(g, member);
    }
    member.delete('all');
    const b = builtin?.hosts.get(name);
    const varSources: InvHost['varSources'] = {};
    if (b) {
      for (const [k, v] of Object.entries(vars)) {
        if (b.varSources[k] && sameValue(v, b.vars[k])) varSources[k] = b.varSources[k];
      }
    }
    hosts.set(name, {
      name,
      groups: ['all', ...precedenceOrder(member, groups, depth)],
      vars,
      varSources,
      definedAt: b?.definedAt ?? fallbackPlace,
    });
  }
  return { hosts, groups, problems: [], notes: [], unevaluated: [] };
}

/** `items` ordered as in `reference`, the others after them in their own order. */
function orderLike(items: string[], reference: string[]): string[] {
  const rank = new Map(reference.map((x, i) => [x, i]));
  return items
    .map((x, i) => ({ x, r: rank.get(x) ?? reference.length + i }))
    .sort((a, b) => a.r - b.r)
    .map((e) => e.x);
}

function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    isPlainObject(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

/**
 * `ansible-inventory` skips a source it cannot parse with a warning and carries on. Those
 * sources become problems — with the built-in parser's file:line when it found the same fault.
 */
export function unparsedProblems(stderr: string, builtin: Inventory): InputProblem[] {
  const text = unwrapWarnings(stderr);
  const out: InputProblem[] = [];
  for (const m of text.matchAll(/Unable to parse (.+?) as an inventory source/g)) {
    const file = m[1].trim();
    if (file === '/etc/ansible/hosts') continue;
    const known = builtin.problems.filter((p) => p.file === file);
    if (known.length) out.push(...known);
    else if (!builtin.notes.some((n) => n.startsWith(`${file}:`))) {
      out.push({ file, line: 0, message: 'ansible-inventory could not parse this inventory source' });
    }
  }
  return out;
}

/** Ansible wraps warnings at 79 columns (breaking after hyphens too); put each back on one line. */
function unwrapWarnings(stderr: string): string {
  let out = '';
  for (const line of stderr.split('\n')) {
    if (/^\[(WARNING|ERROR|DEPRECATION WARNING)\]/.test(line) || !out) out += `\n${line}`;
    else out += out.endsWith('-') ? line : ` ${line}`;
  }
  return out;
}
