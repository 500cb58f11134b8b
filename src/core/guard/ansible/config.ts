/**
 * Where Ansible's settings come from, as Ansible finds them: `ANSIBLE_CONFIG`, `./ansible.cfg`
 * (unless the folder is world-writable), `~/.ansible.cfg`, `/etc/ansible/ansible.cfg` — the first
 * that exists — and the environment variables that override it. Paths in the file are relative to it.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';

export interface PathContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  home: string;
}

export interface AnsibleCfg {
  /** Absolute path of the file read, or undefined when there is none. */
  file?: string;
  /** section → key (lower-case) → value and its line. */
  sections: Map<string, Map<string, { value: string; line: number }>>;
}

export interface Setting {
  value: string;
  /** Human description of where it came from: `$ANSIBLE_INVENTORY`, `ansible.cfg:3`. */
  origin: string;
  /** The directory relative paths are resolved against. */
  basedir: string;
  /** The environment variable it came from, if any. */
  envVar?: string;
  file?: string;
  line?: number;
}

/** `find_ini_config_file`. */
export function findAnsibleCfg(ctx: PathContext): string | undefined {
  const candidates: string[] = [];
  const fromEnv = ctx.env.ANSIBLE_CONFIG;
  if (fromEnv !== undefined) {
    const p = expandPath(fromEnv, ctx.cwd, ctx);
    candidates.push(isDir(p) ? join(p, 'ansible.cfg') : p);
  }
  try {
    // A world-writable working folder is skipped: anyone could have put an ansible.cfg there.
    if ((statSync(ctx.cwd).mode & 0o002) === 0) candidates.push(join(ctx.cwd, 'ansible.cfg'));
  } catch {
    // An unreadable cwd is simply not a config source.
  }
  candidates.push(join(ctx.home, '.ansible.cfg'), '/etc/ansible/ansible.cfg');
  return candidates.find(isReadableFile);
}

/** Reads an ansible.cfg as Python's ConfigParser does (`key = value` or `key: value`, `;` inline comments). */
export function readAnsibleCfg(file: string | undefined): AnsibleCfg {
  const sections = new Map<string, Map<string, { value: string; line: number }>>();
  if (!file) return { sections };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { file, sections };
  }
  let current: Map<string, { value: string; line: number }> | undefined;
  let last: { value: string; line: number } | undefined;
  let lastIndent = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const stripped = raw.trim();
    const indent = raw.length - raw.trimStart().length;
    if (!stripped || stripped.startsWith('#') || stripped.startsWith(';')) return;
    if (last && indent > lastIndent) {
      last.value += `\n${stripInline(stripped)}`;
      return;
    }
    const sec = /^\[([^\]]+)\]/.exec(stripped);
    if (sec) {
      current = sections.get(sec[1]) ?? new Map();
      sections.set(sec[1], current);
      last = undefined;
      return;
    }
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(stripped);
    if (!current || !m) return;
    last = { value: stripInline(m[2]), line: i + 1 };
    lastIndent = indent;
    current.set(m[1].trim().toLowerCase(), last);
  });
  return { file, sections };
}

function stripInline(v: string): string {
  const m = /\s;/.exec(v);
  return (m ? v.slice(0, m.index) : v).trim();
}

/**
 * One setting by Ansible's precedence: the first environment variable set, else the first
 * `[section] key` found in the config file.
 */
export function setting(
  cfg: AnsibleCfg,
  ctx: PathContext,
  envVars: readonly string[],
  ini: readonly [section: string, key: string][],
): Setting | undefined {
  for (const name of envVars) {
    const v = ctx.env[name];
    if (v !== undefined && v !== '') return { value: v, origin: `$${name}`, basedir: ctx.cwd, envVar: name };
  }
  for (const [section, key] of ini) {
    const entry = cfg.sections.get(section)?.get(key);
    if (entry && cfg.file) {
      return {
        value: entry.value,
        origin: `${cfg.file}:${entry.line}`,
        basedir: dirname(cfg.file),
        file: cfg.file,
        line: entry.line,
      };
    }
  }
  return undefined;
}

/** Ansible's `list` type: comma-separated, each item stripped of spaces and quotes. */
export function settingList(s: Setting | undefined): string[] | undefined {
  if (!s) return undefined;
  return s.value.split(',').map((x) => x.trim().replace(/^(['"])(.*)\1$/, '$2'));
}

/**
 * `unfrackpath`: `{{CWD}}`, `$VAR` / `${VAR}` and `~` expanded, made absolute against
 * `basedir`, normalised (symlinks are not followed).
 */
export function expandPath(path: string, basedir: string, ctx: PathContext): string {
  let p = path.replace(/\{\{CWD\}\}/g, ctx.cwd);
  p = p.replace(/\$(\w+|\{[^}]*\})/g, (all, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    const v = ctx.env[key];
    return v === undefined ? all : v;
  });
  if (p === '~' || p.startsWith('~/')) p = ctx.home + p.slice(1);
  return normalize(isAbsolute(p) ? p : join(basedir, p));
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isReadableFile(p: string): boolean {
  try {
    accessSync(p, constants.R_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
