/**
 * The built-in Ansible inventory reader, so the guard and the diagnostics work without Ansible.
 * It reads what `-i` accepts — an INI or YAML file, a directory of them, an inline `h1,h2,` list —
 * plus the group_vars/ and host_vars/ next to each, and merges variables in Ansible's order:
 *
 *   `all` inventory vars < other groups' inventory vars (parents before children) <
 *   group_vars/all < group_vars/<group> < host inventory vars < host_vars/<host>
 *
 * Every host keeps the file:line that defined it and where each of its variables was set.
 * Malformed input is reported as problems with file:line; nothing here throws for bad input.
 */
import { constants } from 'node:fs';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { InputProblem } from '../types';
import { parseAddress } from './hostPattern';
import { parseIni } from './ini';
import { InventoryBuilder, type GroupRecord, type HostRecord, type Place } from './model';
import { isPlainObject, parseYaml, readVarsText, type VarsFile } from './yamlFile';
import { parseYamlInventory } from './yamlInventory';

export type { Place } from './model';

export interface InvHost {
  name: string;
  /** Every group the host is in (directly or through children), in the order their variables apply: `all` first. */
  groups: string[];
  /** Variables after Ansible's precedence (inventory, group_vars, host_vars; not extra vars). */
  vars: Record<string, unknown>;
  /** Where each variable in `vars` was set (the winning definition). */
  varSources: Record<string, Place>;
  /** The first definition of the host. Line 0 when unknown (an inline list, or `ansible-inventory` alone). */
  definedAt: Place;
}

export interface InvGroup {
  name: string;
  /** Direct members, in definition order. */
  hosts: string[];
  children: string[];
  parents: string[];
  /** The group's own variables: inventory vars, then its group_vars files. */
  vars: Record<string, unknown>;
  varSources: Record<string, Place>;
  /** Distance from `all` (Ansible's group depth: children override parents). */
  depth: number;
  priority: number;
  definedAt?: Place;
}

export interface Inventory {
  hosts: Map<string, InvHost>;
  groups: Map<string, InvGroup>;
  problems: InputProblem[];
  /** Remarks worth showing: ignored files, vault-encrypted vars, plugin configs not evaluated. */
  notes: string[];
  /** Inventory sources that could change host membership or addresses but were not evaluated
   *  (e.g. a `constructed` plugin config): a `--limit` naming unknown groups must not narrow. */
  unevaluated: string[];
}

export interface LoadInventoryOptions {
  cwd: string;
  /** Playbook directories whose group_vars/ and host_vars/ apply too (after the inventory's). */
  basedirs?: string[];
  /** Extensions skipped inside inventory directories (Ansible's `inventory_ignore_extensions`). */
  ignoreExtensions?: readonly string[];
  /** Regular expressions skipped inside inventory directories (`inventory_ignore_patterns`). */
  ignorePatterns?: readonly string[];
  /** Unsaved editor text by absolute path: read instead of the file on disk. */
  overrides?: ReadonlyMap<string, string>;
}

/** Ansible's default `inventory_ignore_extensions` (REJECT_EXTS + .orig .ini .cfg .retry). */
export const DEFAULT_IGNORE_EXTENSIONS = [
  '.pyc',
  '.pyo',
  '.swp',
  '.bak',
  '~',
  '.rpm',
  '.md',
  '.txt',
  '.rst',
  '.orig',
  '.ini',
  '.cfg',
  '.retry',
] as const;

const YAML_EXTS = ['.yml', '.yaml', '.json'];
const VARS_EXTS = ['.yml', '.yaml', '.json'];

export async function loadInventory(sources: string[], opts: LoadInventoryOptions): Promise<Inventory> {
  const loader = new Loader(opts);
  const varDirs: string[] = [];
  let parsedAny = false;
  for (const source of sources) {
    if (!source) continue;
    const path = isAbsolute(source) ? source : resolve(opts.cwd, source);
    const info = await stat(path).catch(() => undefined);
    if (!info && source.includes(',')) {
      loader.hostList(source);
      parsedAny = true;
      continue;
    }
    if (!info) {
      loader.problems.push({ file: path, line: 0, message: 'inventory source not found' });
      continue;
    }
    const parsed = await loader.source(path, info.isDirectory());
    if (!parsed && info.isDirectory()) {
      loader.notes.push(
        `${path}: no inventory file in this directory (Ansible skips hidden files and ${(opts.ignoreExtensions ?? DEFAULT_IGNORE_EXTENSIONS).join(' ')} here)`,
      );
    }
    parsedAny ||= parsed;
    varDirs.push(info.isDirectory() ? path : dirname(path));
  }
  // Like Ansible: with nothing parsed the inventory is not reconciled (no host is under `all`).
  if (parsedAny) loader.inv.reconcile();
  return loader.finish(
    varDirs,
    (opts.basedirs ?? []).map((d) => resolve(opts.cwd, d)),
  );
}

class Loader {
  readonly inv = new InventoryBuilder();
  readonly problems: InputProblem[] = [];
  readonly notes: string[] = [];
  readonly unevaluated: string[] = [];
  private readonly ignored: RegExp;
  private readonly varsFiles = new Map<string, Promise<VarsFile | undefined>>();
  private readonly listings = new Map<string, Promise<Set<string> | undefined>>();
  private readonly overrides: ReadonlyMap<string, string>;

  constructor(opts: LoadInventoryOptions) {
    this.overrides = opts.overrides ?? new Map();
    const exts = (opts.ignoreExtensions ?? DEFAULT_IGNORE_EXTENSIONS).map((e) => `${escapeRe(e)}$`);
    const always = ['^\\.', '^host_vars$', '^group_vars$', '^vars_plugins$'];
    try {
      this.ignored = new RegExp([...always, ...(opts.ignorePatterns ?? []), ...exts].join('|'));
    } catch {
      this.notes.push(`inventory_ignore_patterns is not a valid regular expression: ignored`);
      this.ignored = new RegExp([...always, ...exts].join('|'));
    }
  }

  /** `host_list`: `a,b:2222,[::1]` → ungrouped hosts, each at most once. */
  hostList(source: string): void {
    const at = { file: source, line: 0 };
    for (const raw of source.split(',')) {
      const h = raw.trim();
      if (!h) continue;
      const parsed = parseAddress(h, false);
      const name = parsed?.host ?? h;
      if (!this.inv.hosts.has(name)) this.inv.addHost(name, 'ungrouped', at, parsed?.port);
    }
  }

  /** One source: a directory (each file in it that Ansible would read) or a file. True when something parsed. */
  async source(path: string, isDir: boolean): Promise<boolean> {
    if (isDir) {
      let names: string[];
      try {
        names = (await readdir(path)).sort(byteOrder);
      } catch (err) {
        this.problems.push({ file: path, line: 0, message: `cannot read inventory directory: ${errText(err)}` });
        return false;
      }
      let parsed = false;
      for (const name of names) {
        if (this.ignored.test(name)) continue;
        const full = join(path, name);
        const info = await stat(full).catch(() => undefined);
        if (info && (await this.source(full, info.isDirectory()))) parsed = true;
      }
      return parsed;
    }
    let text: string;
    try {
      text = this.overrides.get(path) ?? (await readFile(path, 'utf8'));
    } catch (err) {
      this.problems.push({ file: path, line: 0, message: `cannot read inventory file: ${errText(err)}` });
      return false;
    }
    if (text.startsWith('#!') && (await isExecutable(path))) {
      this.problems.push({
        file: path,
        line: 1,
        message:
          'an executable inventory script: the built-in parser does not run programs, so its hosts are unknown (use the ansible inventory parser)',
      });
      this.unevaluated.push(path);
      return true;
    }
    return this.file(path, text);
  }

  /** One inventory file, tried as Ansible's plugins would: plugin config, YAML, then INI. */
  private file(path: string, text: string): boolean {
    const ext = pyExt(path);
    let yamlProblem: InputProblem | undefined;
    if (ext === '' || YAML_EXTS.includes(ext)) {
      const parsed = parseYaml(text, path);
      if ('yaml' in parsed) {
        const r = parseYamlInventory(parsed.yaml, this.inv);
        if (r.kind === 'parsed') {
          this.notes.push(...r.warnings);
          return true;
        }
        if (r.kind === 'plugin') {
          if (ext === '.yml' || ext === '.yaml') {
            this.pluginConfig(path, r.plugin, r.data);
            return true;
          }
          this.notes.push(
            `${path}: an inventory plugin configuration that Ansible only reads from .yml/.yaml files: ignored, as Ansible does`,
          );
          return false;
        }
        if (r.kind === 'failed') yamlProblem = r.problem;
      } else yamlProblem = parsed.problem;
    }
    const iniProblem = parseIni(text, path, this.inv);
    if (!iniProblem) return true;
    if (!yamlProblem && !YAML_EXTS.includes(ext)) {
      // Ansible would not read it as YAML; if it is a plugin config nonetheless, Ansible skips it with a warning.
      const y = parseYaml(text, path);
      if ('yaml' in y) {
        const data: unknown = y.yaml.doc.toJS();
        if (isPlainObject(data) && typeof data.plugin === 'string') {
          this.notes.push(
            `${path}: an inventory plugin configuration (${data.plugin}) in a file Ansible does not read as one (not .yml/.yaml): ignored, as Ansible does`,
          );
          return false;
        }
      }
    }
    const preferYaml = yamlProblem && (YAML_EXTS.includes(ext) || looksLikeYaml(text));
    const problem = preferYaml ? (yamlProblem as InputProblem) : iniProblem;
    if (ext === '.toml')
      problem.message = `TOML inventories are not read by the built-in parser (use the ansible inventory parser); as INI: ${problem.message}`;
    this.problems.push(problem);
    return false;
  }

  private pluginConfig(path: string, plugin: string, data: Record<string, unknown>): void {
    const name = plugin.replace(/^ansible\.builtin\./, '');
    if (name === 'constructed') {
      this.unevaluated.push(path);
      const compose = isPlainObject(data.compose) ? Object.keys(data.compose) : [];
      const sensitive = compose.filter((k) => /^ansible_(host|ssh_host|connection)$/.test(k));
      if (sensitive.length) {
        this.problems.push({
          file: path,
          line: 0,
          message: `constructed inventory sets ${sensitive.join(', ')} from Jinja expressions the built-in parser does not evaluate (use the ansible inventory parser)`,
        });
      } else {
        this.notes.push(`${path}: constructed inventory groups are not evaluated by the built-in parser`);
      }
      return;
    }
    this.unevaluated.push(path);
    this.problems.push({
      file: path,
      line: 0,
      message: `inventory plugin "${plugin}" (a dynamic inventory) cannot be evaluated by the built-in parser, so its hosts are unknown (use the ansible inventory parser)`,
    });
  }

  /** Variables and precedence; the Inventory the rest of the guard reads. */
  async finish(invDirs: string[], playDirs: string[]): Promise<Inventory> {
    const inv = this.inv;
    const depth = groupDepths(inv.groups);
    const allDirs = [...invDirs, ...playDirs];

    // group_vars and host_vars files, per directory, in the order they apply. Only names that
    // have a file are looked at (a 5,000-host inventory usually has a handful).
    const groupFiles = await this.entityFiles(allDirs, 'group_vars', [...inv.groups.keys()]);
    const hostFiles = await this.entityFiles(
      allDirs,
      'host_vars',
      [...inv.hosts.keys()].filter((h) => !h.startsWith('/')),
    );
    const nInv = invDirs.length;
    const filesIn = (perDir: VarsFile[][] | undefined, from: number, to: number): VarsFile[] =>
      (perDir ?? []).slice(from, to).flat();

    const groups = new Map<string, InvGroup>();
    for (const g of inv.groups.values()) {
      const merged = mergeAll([{ vars: g.vars, sources: g.sources }, ...filesIn(groupFiles.get(g.name), 0, nInv)]);
      groups.set(g.name, {
        name: g.name,
        hosts: g.hosts,
        children: g.children,
        parents: g.parents,
        vars: merged.vars,
        varSources: merged.sources,
        depth: depth.get(g.name) ?? 0,
        priority: g.priority,
        definedAt: g.definedAt,
      });
    }

    const ancestors = new Map<string, string[]>();
    const ancestorsOf = (g: string): string[] => {
      let a = ancestors.get(g);
      if (!a) ancestors.set(g, (a = [...inv.ancestors(g)]));
      return a;
    };
    const all = inv.groups.get('all') as GroupRecord;
    const groupParts = new Map<string, { order: string[]; merged: VarsFile }>();
    const hosts = new Map<string, InvHost>();
    for (const h of inv.hosts.values()) {
      const member = new Set<string>();
      for (const g of h.groups) {
        member.add(g);
        for (const a of ancestorsOf(g)) member.add(a);
      }
      member.delete('all');
      const key = [...member].sort().join('\0');
      let part = groupParts.get(key);
      if (!part) {
        const order = precedenceOrder(member, inv.groups, depth);
        const layers: VarsFile[] = [{ vars: all.vars, sources: all.sources }];
        for (const n of order) {
          const g = inv.groups.get(n) as GroupRecord;
          layers.push({ vars: g.vars, sources: g.sources });
        }
        layers.push(...filesIn(groupFiles.get('all'), 0, allDirs.length));
        // Inventory directories first, then playbook directories; within each, groups in precedence order.
        for (let d = 0; d < allDirs.length; d++) for (const n of order) layers.push(...(groupFiles.get(n)?.[d] ?? []));
        part = { order: ['all', ...order], merged: mergeAll(layers) };
        groupParts.set(key, part);
      }
      hosts.set(h.name, this.hostEntry(h, part, hostFiles.get(h.name)));
    }
    return { hosts, groups, problems: this.problems, notes: this.notes, unevaluated: this.unevaluated };
  }

  private hostEntry(
    h: HostRecord,
    part: { order: string[]; merged: VarsFile },
    files: VarsFile[][] | undefined,
  ): InvHost {
    const vars = { ...part.merged.vars, ...h.vars };
    const varSources = { ...part.merged.sources, ...h.sources };
    for (const f of (files ?? []).flat()) {
      Object.assign(vars, f.vars);
      Object.assign(varSources, f.sources);
    }
    return { name: h.name, groups: part.order, vars, varSources, definedAt: h.definedAt };
  }

  /** Per name, per directory: the vars files that apply (names without any file are left out). */
  private async entityFiles(
    dirs: string[],
    sub: 'group_vars' | 'host_vars',
    names: string[],
  ): Promise<Map<string, VarsFile[][]>> {
    const listings = await Promise.all(dirs.map((d) => this.listing(join(d, sub))));
    const out = new Map<string, VarsFile[][]>();
    const jobs: Promise<void>[] = [];
    for (const name of names) {
      const present = listings.map(
        (l) => !!l && (name.includes('/') || l.has(name) || VARS_EXTS.some((e) => l.has(`${name}${e}`))),
      );
      if (!present.includes(true)) continue;
      const perDir: VarsFile[][] = dirs.map(() => []);
      out.set(name, perDir);
      dirs.forEach((d, i) => {
        if (present[i]) jobs.push(this.entityVars(join(d, sub), name).then((files) => void (perDir[i] = files)));
      });
    }
    await Promise.all(jobs);
    return out;
  }

  /** `find_vars_files`: NAME, NAME.yml, NAME.yaml, NAME.json — the first that exists; a directory → all its files. */
  private async entityVars(base: string, name: string): Promise<VarsFile[]> {
    for (const ext of ['', ...VARS_EXTS]) {
      const path = join(base, `${name}${ext}`);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const files = info.isDirectory() ? await varsDirFiles(path) : [path];
      const loaded = await Promise.all(files.map((f) => this.varsFile(f)));
      return loaded.filter((v): v is VarsFile => v !== undefined);
    }
    return [];
  }

  private listing(dir: string): Promise<Set<string> | undefined> {
    let p = this.listings.get(dir);
    if (!p) {
      p = readdir(dir)
        .then((names) => new Set(names))
        .catch(() => undefined);
      this.listings.set(dir, p);
    }
    return p;
  }

  private varsFile(path: string): Promise<VarsFile | undefined> {
    let p = this.varsFiles.get(path);
    if (!p) {
      const override = this.overrides.get(path);
      p = (override !== undefined ? Promise.resolve(override) : readFile(path, 'utf8')).then(
        (text) => {
          const r = readVarsText(text, path);
          if ('vault' in r) {
            this.notes.push(`${path}: vault-encrypted; its variables are not read by the built-in parser`);
            return undefined;
          }
          if ('problem' in r) {
            this.problems.push(r.problem);
            return undefined;
          }
          return r.vars;
        },
        (err: unknown) => {
          this.problems.push({ file: path, line: 0, message: `cannot read variables file: ${errText(err)}` });
          return undefined;
        },
      );
      this.varsFiles.set(path, p);
    }
    return p;
  }
}

/** `sort_groups`: the order group variables apply in — by depth, then priority, then name. */
export function precedenceOrder(
  names: Iterable<string>,
  groups: ReadonlyMap<string, { priority: number }>,
  depth: ReadonlyMap<string, number>,
): string[] {
  const key = (n: string) => [depth.get(n) ?? 0, groups.get(n)?.priority ?? 1] as const;
  return [...names].sort((a, b) => {
    const [da, pa] = key(a);
    const [db, pb] = key(b);
    return da - db || pa - pb || byteOrder(a, b);
  });
}

function mergeAll(layers: VarsFile[]): VarsFile {
  const vars: Record<string, unknown> = {};
  const sources: Record<string, Place> = {};
  for (const l of layers) {
    Object.assign(vars, l.vars);
    Object.assign(sources, l.sources);
  }
  return { vars, sources };
}

/** Longest distance from `all` over parent links (Ansible's Group.depth once the inventory is reconciled). */
export function groupDepths(groups: ReadonlyMap<string, { parents: readonly string[] }>): Map<string, number> {
  const out = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (name: string): number => {
    const known = out.get(name);
    if (known !== undefined) return known;
    if (name === 'all' || visiting.has(name)) return 0;
    visiting.add(name);
    const g = groups.get(name);
    const d = g && g.parents.length ? Math.max(...g.parents.map((p) => depthOf(p) + 1)) : 1;
    visiting.delete(name);
    out.set(name, d);
    return d;
  };
  out.set('all', 0);
  for (const name of groups.keys()) depthOf(name);
  return out;
}

/** `_get_dir_vars_files`: sorted, recursive, skipping hidden files and backups, only known extensions or none. */
async function varsDirFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).sort(byteOrder);
  const out: string[] = [];
  for (const name of names) {
    if (name.startsWith('.') || name.endsWith('~')) continue;
    const full = join(dir, name);
    const ext = pyExt(name);
    const info = await stat(full).catch(() => undefined);
    if (!info) continue;
    if (info.isDirectory() && !ext) out.push(...(await varsDirFiles(full)));
    else if (info.isFile() && (!ext || VARS_EXTS.includes(ext))) out.push(full);
  }
  return out;
}

/** Python's os.path.splitext extension: a leading dot is not an extension (`.hidden` → ''). */
function pyExt(path: string): string {
  const name = basename(path);
  const ext = extname(name);
  return ext === name ? '' : ext;
}

/** A first significant line like `all:` or `---` means the author wrote YAML. */
function looksLikeYaml(text: string): boolean {
  for (const raw of text.split('\n', 50)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    return line === '---' || /^[^\s=[\]]+:(\s|$)/.test(line);
  }
  return false;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? (e instanceof Error ? e.message : String(err));
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
