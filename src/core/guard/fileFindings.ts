/**
 * The guard's findings on one open file, for editor diagnostics (SPEC §5): which hosts and
 * endpoints written in an inventory, a host_vars/group_vars file, a kubeconfig or a .tf/.tfvars
 * file resolve to production, each at its line with the chain that proves it. The same extractors
 * and decision as `guard exec`, so the editor and the terminal never disagree.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { WorkspaceConfig } from '../config/types';
import { extractAnsible } from './ansible/extract';
import { loadInventory } from './ansible/inventory';
import { boundaryFromConfig } from './boundary';
import { decide } from './decide';
import { kubeconfigEndpoints } from './families/kube';
import { tfEndpoints } from './families/tofu';
import { guardFileKind, type GuardFileKind } from './fileKind';
import type { Resolution, Resolver } from './resolver';
import type { InputProblem, ResolvedTarget, Target } from './types';

export { guardFileKind, usedBySandboxOrGate, type GuardFileKind } from './fileKind';

export interface GuardFinding {
  /** 1-based line and column of what to underline in the file; `length` characters long. */
  line: number;
  column: number;
  length: number;
  /** `production`: it resolves to production. `unresolved`: it does not resolve, so guarded commands that reach it are blocked. */
  kind: 'production' | 'unresolved';
  message: string;
  target: ResolvedTarget;
}

export interface FileFindings {
  kind: GuardFileKind;
  findings: GuardFinding[];
  /** The file (or one it depends on) cannot be read: file:line, shown as diagnostics too. */
  problems: InputProblem[];
}

export interface FileFindingsOptions {
  config: WorkspaceConfig;
  /** The workspace folder: ansible.cfg is looked up from here, paths in messages are relative to it. */
  root: string;
  resolver: Pick<Resolver, 'resolve'>;
  env: NodeJS.ProcessEnv;
  home: string;
  /** Unsaved editor text by absolute path (the file itself at least). */
  overrides?: ReadonlyMap<string, string>;
  /**
   * False: no DNS lookup (an untrusted workspace); only address literals and name rules decide,
   * and names that would need a lookup say nothing. Default true.
   */
  lookups?: boolean;
}

/** The findings for `file` (its text may be unsaved); undefined when the guard has nothing to say about this kind of file. */
export async function fileFindings(
  file: string,
  text: string,
  opts: FileFindingsOptions,
): Promise<FileFindings | undefined> {
  file = resolve(opts.root, file);
  const kind = guardFileKind(file, text);
  if (!kind) return undefined;
  const overrides = new Map(opts.overrides ?? []);
  overrides.set(file, text);
  switch (kind) {
    case 'inventory':
    case 'inventory-vars':
      return { kind, ...(await inventoryFindings(file, kind, overrides, opts)) };
    case 'kubeconfig':
      return { kind, ...(await kubeconfigFindings(file, text, opts)) };
    case 'tofu':
      return { kind, ...(await tofuFindings(file, text, opts)) };
  }
}

// ---------------------------------------------------------------------------------------------
// Inventories

async function inventoryFindings(
  file: string,
  kind: 'inventory' | 'inventory-vars',
  overrides: Map<string, string>,
  opts: FileFindingsOptions,
): Promise<Omit<FileFindings, 'kind'>> {
  const sources = kind === 'inventory' ? [file] : await inventoriesBeside(varsRoot(file), overrides);
  if (sources.length === 0) return { findings: [], problems: [] };
  const ctx = { cwd: opts.root, env: opts.env, home: opts.home, inventoryParser: 'builtin' as const, overrides };
  const argv = ['ansible-inventory', ...sources.flatMap((s) => ['-i', s]), '--list'];
  const [extraction, inventory] = await Promise.all([
    extractAnsible(argv, ctx),
    loadInventory(sources, { cwd: opts.root, overrides }),
  ]);
  const lines = (overrides.get(file) ?? '').split(/\r?\n/);
  const placed: Placed[] = [];
  for (const target of extraction.targets) {
    const h = target.kind === 'host' ? inventory.hosts.get(target.name) : undefined;
    if (!h) continue;
    // The line that sets its address, and the line that names it, when they are in this file.
    for (const key of ['ansible_host', 'ansible_ssh_host']) {
      const p = h.varSources[key];
      if (p?.file === file && p.line > 0) placed.push({ target, span: spanOf(lines, p.line, String(h.vars[key])) });
    }
    if (h.definedAt.file === file && h.definedAt.line > 0) {
      placed.push({ target, span: spanOf(lines, h.definedAt.line, h.name) });
    }
  }
  const problems = [...extraction.problems, ...inventory.problems].filter(
    (p) => overrides.has(p.file) || p.file === file,
  );
  return { findings: await decideFindings(placed, opts), problems: uniqueProblems(problems) };
}

/** host_vars/pi2.yml or host_vars/pi2/main.yml → the folder holding host_vars. */
function varsRoot(file: string): string {
  let dir = dirname(file);
  while (basename(dir) !== 'host_vars' && basename(dir) !== 'group_vars' && dirname(dir) !== dir) dir = dirname(dir);
  return dirname(dir);
}

/** The inventory files in `dir` (a host_vars file applies to the inventories beside its folder). */
async function inventoriesBeside(dir: string, overrides: Map<string, string>): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: string[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    const text = overrides.get(path) ?? (await readFile(path, 'utf8').catch(() => undefined));
    if (text !== undefined && guardFileKind(path, text) === 'inventory') out.push(path);
  }
  return out;
}

function uniqueProblems(problems: InputProblem[]): InputProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}:${p.line}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Kubeconfigs and OpenTofu

async function kubeconfigFindings(
  file: string,
  text: string,
  opts: FileFindingsOptions,
): Promise<Omit<FileFindings, 'kind'>> {
  const { endpoints, problems } = kubeconfigEndpoints(file, text);
  const placed: Placed[] = [];
  for (const e of endpoints) {
    const span = { line: e.line, column: e.column, length: e.server.length };
    const source = { kind: 'file' as const, file, line: e.line, column: e.column };
    const at = `${basename(file)}:${e.line}`;
    placed.push({
      span,
      target: {
        kind: 'url',
        name: e.cluster,
        host: e.host,
        source,
        chain: [`cluster ${e.cluster}`, `${e.field} ${e.server} (${at})`],
      },
    });
    // A production context name makes its cluster production whatever the server resolves to.
    for (const context of e.contexts) {
      placed.push({
        span,
        target: {
          kind: 'kube-context',
          name: e.cluster,
          kubeContext: context,
          source,
          chain: [`context ${context} → cluster ${e.cluster} (${at})`],
        },
      });
    }
  }
  return { findings: await decideFindings(placed, opts), problems };
}

async function tofuFindings(
  file: string,
  text: string,
  opts: FileFindingsOptions,
): Promise<Omit<FileFindings, 'kind'>> {
  const { endpoints, problems } = tfEndpoints(file, text);
  const placed: Placed[] = endpoints.map((e) => ({
    span: { line: e.line, column: e.column, length: e.value.length },
    target: {
      kind: e.kind,
      name: e.where,
      ...(e.host ? { host: e.host } : {}),
      ...(e.stateBackend ? { stateBackend: e.stateBackend } : {}),
      source: { kind: 'file', file, line: e.line, column: e.column },
      chain: [`${e.where} ${e.value} (${basename(file)}:${e.line})`],
    },
  }));
  return { findings: await decideFindings(placed, opts), problems };
}

// ---------------------------------------------------------------------------------------------

interface Span {
  line: number;
  column: number;
  length: number;
}

interface Placed {
  target: Target;
  span: Span;
}

/** `needle` on that line (1-based), else the line's text without its indentation. */
function spanOf(lines: string[], line: number, needle: string): Span {
  const text = lines[line - 1] ?? '';
  const at = needle ? text.indexOf(needle) : -1;
  if (at >= 0) return { line, column: at + 1, length: needle.length };
  const start = text.length - text.trimStart().length;
  return { line, column: start + 1, length: text.trim().length };
}

const NO_LOOKUP: Pick<Resolver, 'resolve'> = {
  resolve: (): Promise<Resolution> =>
    Promise.resolve({ addresses: [], chain: [], names: [], unresolved: 'error', detail: 'not looked up' }),
};

/** Decides every placed target; production ones (and, with lookups, unresolvable ones) become findings, one per place. */
async function decideFindings(placed: Placed[], opts: FileFindingsOptions): Promise<GuardFinding[]> {
  if (placed.length === 0) return [];
  const lookups = opts.lookups !== false;
  const boundary = boundaryFromConfig(opts.config);
  const verdict = await decide(
    placed.map((p) => p.target),
    boundary,
    lookups ? opts.resolver : NO_LOOKUP,
    { baseDir: opts.root },
  );
  const out = new Map<string, GuardFinding>();
  verdict.targets.forEach((r, i) => {
    if (!r.production) return;
    const f = finding(placed[i].span, r);
    if (f.kind === 'unresolved' && !lookups) return;
    // One per line: a host and its address on one INI line are one finding (the address, placed first).
    const key = `${f.line}`;
    const prev = out.get(key);
    if (!prev || (prev.kind === 'unresolved' && f.kind === 'production')) out.set(key, f);
  });
  return [...out.values()].sort((a, b) => a.line - b.line || a.column - b.column);
}

/** The conclusion first (what a Problems row shows before it is cut), then the chain that proves it. */
function finding(span: Span, r: ResolvedTarget): GuardFinding {
  const chain = r.chain.join(' → ');
  if (r.unresolved && r.rule?.startsWith('unresolved')) {
    const hop = [...r.chain].reverse().find((c) => c.includes(' did not resolve: '));
    const why = hop
      ? hop.replace(/ did not resolve: /, ': ').replace(/ \(guard\.onUnresolved: \w+\)$/, '')
      : r.unresolved;
    return {
      ...span,
      kind: 'unresolved',
      message: `${r.name} cannot be resolved (${why}), so guarded commands that reach it are blocked: ${chain}`,
      target: r,
    };
  }
  const decisive = [...r.chain].reverse().find((c) => / ∈ .* production$/.test(c)) ?? r.rule ?? 'production';
  const why = decisive.replace(/ production$/, '');
  return { ...span, kind: 'production', message: `${r.name} is production (${why}): ${chain}`, target: r };
}
