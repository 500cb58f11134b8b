/**
 * Ansible's host pattern language, for `--limit` / `-l` and the host pattern of `ansible` and
 * `ansible-console` (a port of ansible/inventory/manager.py): `all`, `*`, names, globs `web*`,
 * groups, `a:b` / `a,b` union, `a:&b` intersection, `a:!b` exclusion, regexes `~web\d+`,
 * `@file` limit files, subscripts `webservers[0]`, `webservers[0:2]`, `webservers[-1]`.
 * Only the hosts a command will reach are selected, in the order Ansible would visit them.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { InputProblem } from '../types';
import { parseAddress } from './hostPattern';
import type { Inventory } from './inventory';

/** Names Ansible treats as the implicit localhost when the inventory does not define them. */
export const LOCALHOST_NAMES = ['localhost', '127.0.0.1', '::1'] as const;

export interface HostSelection {
  /** Inventory host names, in Ansible's order. */
  hosts: string[];
  /** The implicit localhost, when the pattern named it and the inventory does not define it. */
  implicitLocalhost?: string;
  /** Patterns (without `&`/`!`) that matched no group and no host. */
  unmatched: string[];
  /** Unreadable `@file` limits, invalid regexes. */
  problems: InputProblem[];
  notes: string[];
}

export interface SelectOptions {
  /** `--limit` value (may hold `@file` entries). */
  limit?: string;
  /** For `@file` relative paths. */
  cwd: string;
}

/** `split_host_pattern`: commas split; otherwise colons, except inside an address or a `[x:y]` range. */
export function splitHostPattern(pattern: string): string[] {
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (parseAddress(pattern, true)) parts = [pattern];
  else parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/**
 * The hosts `pattern` selects, narrowed by `opts.limit` — what `ansible PATTERN --limit L`
 * (or a play's `hosts:` with `--limit`) reaches.
 */
export function selectHosts(inv: Inventory, pattern: string, opts: SelectOptions): HostSelection {
  const m = new Matcher(inv);
  const problems: InputProblem[] = [];
  let hosts = m.evaluate(splitHostPattern(pattern));
  if (opts.limit !== undefined) {
    const subset: string[] = [];
    for (const x of splitHostPattern(opts.limit)) {
      if (!x.startsWith('@')) {
        subset.push(x);
        continue;
      }
      const file = isAbsolute(x.slice(1)) ? x.slice(1) : resolve(opts.cwd, x.slice(1));
      try {
        subset.push(
          ...readFileSync(file, 'utf8')
            .split('\n')
            .map((l) => l.trim()),
        );
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const message =
          code === 'EISDIR'
            ? `Limit starting with "@" must be a file, not a directory: ${file}`
            : `Unable to find limit file ${file}`;
        problems.push({ file, line: 0, message });
      }
    }
    const keep = new Set(m.evaluate(subset));
    hosts = hosts.filter((h) => keep.has(h));
  }
  problems.push(...m.problems);
  const implicit = hosts.find((h) => !inv.hosts.has(h));
  return {
    hosts: hosts.filter((h) => inv.hosts.has(h)),
    implicitLocalhost: implicit,
    unmatched: [...m.unmatched],
    problems,
    notes: m.notes,
  };
}

class Matcher {
  readonly problems: InputProblem[] = [];
  readonly notes: string[] = [];
  readonly unmatched = new Set<string>();
  private readonly cache = new Map<string, string[]>();
  private readonly groupHosts = new Map<string, string[]>();

  constructor(private readonly inv: Inventory) {}

  /** `_evaluate_patterns`: plain patterns first, then `&` intersections, then `!` exclusions. */
  evaluate(patterns: string[]): string[] {
    const regular = patterns.filter((p) => p && p[0] !== '!' && p[0] !== '&');
    const and = patterns.filter((p) => p && p[0] === '&');
    const not = patterns.filter((p) => p && p[0] === '!');
    let hosts: string[] = [];
    let have = new Set<string>();
    for (const p of [...(regular.length ? regular : ['all']), ...and, ...not]) {
      if (this.inv.hosts.has(p)) {
        if (!have.has(p)) {
          have.add(p);
          hosts.push(p);
        }
        continue;
      }
      const that = this.matchOne(p);
      if (p[0] === '!' || p[0] === '&') {
        const set = new Set(that);
        const keep = p[0] === '&';
        hosts = hosts.filter((h) => set.has(h) === keep);
        have = new Set(hosts);
      } else {
        for (const h of that) {
          if (!have.has(h)) {
            have.add(h);
            hosts.push(h);
          }
        }
      }
    }
    return hosts;
  }

  private matchOne(raw: string): string[] {
    const pattern = raw[0] === '&' || raw[0] === '!' ? raw.slice(1) : raw;
    const cached = this.cache.get(pattern);
    if (cached) return cached;
    const { expr, subscript } = splitSubscript(pattern);
    let hosts = this.enumerate(expr, raw[0] !== '!');
    if (subscript && hosts.length) {
      const [start, end] = subscript;
      if (end === undefined) {
        const i = start < 0 ? hosts.length + start : start;
        if (i < 0 || i >= hosts.length) {
          this.notes.push(`no hosts matched the subscripted pattern '${pattern}'`);
          hosts = [];
        } else hosts = [hosts[i]];
      } else {
        // Python's hosts[start:end + 1]: end inclusive, never out of range.
        hosts = hosts.slice(start, end === -1 ? hosts.length : end + 1);
      }
    }
    this.cache.set(pattern, hosts);
    return hosts;
  }

  /** `_enumerate_matches`: matching groups' hosts; hosts by name when no group matched or the pattern is a glob/regex. */
  private enumerate(pattern: string, counts: boolean): string[] {
    let re: RegExp;
    try {
      re = pattern[0] === '~' ? pyRegex(pattern.slice(1)) : fnmatchRegex(pattern);
    } catch {
      this.problems.push({ file: '--limit', line: 0, message: `Invalid host list pattern: ${pattern}` });
      return [];
    }
    const results: string[] = [];
    let groupMatched = false;
    for (const g of this.inv.groups.keys()) {
      if (re.test(g)) {
        groupMatched = true;
        results.push(...this.hostsOf(g));
      }
    }
    if (!groupMatched || pattern[0] === '~' || /[.?*[]/.test(pattern)) {
      for (const h of this.inv.hosts.keys()) if (re.test(h)) results.push(h);
    }
    if (!results.length && (LOCALHOST_NAMES as readonly string[]).includes(pattern)) return [pattern];
    if (!results.length && !groupMatched && pattern !== 'all' && counts) this.unmatched.add(pattern);
    return dedupe(results);
  }

  /** `Group.get_hosts`: the group's own hosts, then its children's, level by level. */
  private hostsOf(group: string): string[] {
    const cached = this.groupHosts.get(group);
    if (cached) return cached;
    const ordered = [group];
    const seen = new Set(ordered);
    let level = [group];
    while (level.length) {
      const next: string[] = [];
      for (const g of level) {
        for (const c of this.inv.groups.get(g)?.children ?? []) {
          if (!seen.has(c)) {
            seen.add(c);
            ordered.push(c);
            next.push(c);
          }
        }
      }
      level = next;
    }
    const out = dedupe(ordered.flatMap((g) => this.inv.groups.get(g)?.hosts ?? []));
    this.groupHosts.set(group, out);
    return out;
  }
}

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/s;

/** `webservers[1]` → index 1; `webservers[0:2]` → 0..2 inclusive; `webservers[2:]` → to the end. */
function splitSubscript(pattern: string): { expr: string; subscript?: [number, number | undefined] } {
  if (pattern[0] === '~') return { expr: pattern };
  const m = SUBSCRIPT.exec(pattern);
  if (!m) return { expr: pattern };
  if (m[2] !== undefined) return { expr: m[1], subscript: [Number(m[2]), undefined] };
  // Python: `if end:` — an end of 0 or none means "to the last host".
  const end = m[5] ? Number(m[5]) : -1;
  return { expr: m[1], subscript: [Number(m[3]), end === 0 ? undefined : end] };
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}

/** `fnmatch.translate`: `*`, `?`, `[seq]`, `[!seq]`; the whole name must match (case-sensitive). */
export function fnmatchRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) out += '\\[';
      else {
        let stuff = pattern.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (stuff[0] === '!') stuff = `^${stuff.slice(1)}`;
        else if (stuff[0] === '^' || stuff[0] === '[') stuff = `\\${stuff}`;
        out += `[${stuff}]`;
        i = j;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^(?:${out})$`, 's');
}

/** A Python `re.match` pattern as a JavaScript RegExp anchored at the start (named groups translated). */
function pyRegex(src: string): RegExp {
  let flags = '';
  let body = src;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (inline) {
    body = body.slice(inline[0].length);
    if (inline[1].includes('i')) flags += 'i';
    if (inline[1].includes('m')) flags += 'm';
    if (inline[1].includes('s')) flags += 's';
  }
  body = body.replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>').replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>');
  return new RegExp(`^(?:${body})`, flags);
}
