/**
 * Ansible's INI inventory format (a port of ansible/plugins/inventory/ini.py): `[group]`,
 * `[group:vars]`, `[group:children]`, host lines with inline `key=value` variables (shlex
 * quoting, `#` comments), ranges and `host:port`. Hosts before any header are `ungrouped`.
 */
import type { InputProblem } from '../types';
import { expandHostPattern, HostPatternError } from './hostPattern';
import { InventoryError, type InventoryBuilder } from './model';
import { pyValue, ShlexError, shlexSplit } from './pyLiteral';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

class IniError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  line: number;
  state: 'vars' | 'children';
  parents: string[];
}

/**
 * Parses `text` into `inv`. Like Ansible, stops at the first error (what was read before it
 * stays) and returns that error as a problem at its line.
 */
export function parseIni(text: string, file: string, inv: InventoryBuilder): InputProblem | undefined {
  try {
    parseLines(text.split(/\r\n|\n|\r/), file, inv);
    return undefined;
  } catch (err) {
    if (err instanceof IniError) return { file, line: err.line, message: err.message };
    return { file, line: 0, message: err instanceof Error ? err.message : String(err) };
  }
}

function parseLines(lines: string[], file: string, inv: InventoryBuilder): void {
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state = 'hosts';
  let lineno = 0;
  const fail = (message: string): never => {
    throw new IniError(lineno, message);
  };
  const guarded = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof InventoryError || err instanceof HostPatternError) return fail(err.message);
      throw err;
    }
  };

  for (const raw of lines) {
    lineno++;
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') continue;
    const at = { file, line: lineno };

    const m = SECTION.exec(line);
    if (m) {
      group = m[1];
      state = m[2] ?? 'hosts';
      if (state !== 'hosts' && state !== 'children' && state !== 'vars') {
        fail(`Section [${m[1]}:${m[2]}] has unknown type: ${state}`);
      }
      if (!inv.groups.has(group)) {
        // [g:vars] alone does not declare g: it must be declared somewhere (checked at the end).
        if (state === 'vars' && !pending.has(group)) pending.set(group, { line: lineno, state: 'vars', parents: [] });
        inv.addGroup(group, state === 'vars' ? undefined : at);
      } else if (state !== 'vars') inv.addGroup(group, at);
      const decl = pending.get(group);
      if (decl && state !== 'vars') {
        if (decl.state === 'children') guarded(() => addPendingChildren(group, pending, inv));
        else pending.delete(group);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      fail(
        `Invalid section entry: '${line}'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters`,
      );
    }

    if (state === 'hosts') {
      let tokens: string[];
      try {
        tokens = shlexSplit(line);
      } catch (err) {
        tokens = fail(
          `Error parsing host definition '${line}': ${err instanceof ShlexError ? err.message : String(err)}`,
        );
      }
      if (tokens.length === 0) continue;
      const pattern = tokens[0];
      const { names, port } = guarded(() => expandHostPattern(pattern));
      if (pattern.trim().endsWith(':') && port === undefined) {
        fail(
          `Invalid host pattern '${pattern}' supplied, ending in ':' is not allowed, this character is reserved to provide a port.`,
        );
      }
      if (names.some((n) => n.trim() === '---')) {
        fail(`Invalid host pattern '${pattern}' supplied, '---' is normally a sign this is a YAML file.`);
      }
      const vars: [string, unknown][] = [];
      for (const t of tokens.slice(1)) {
        const eq = t.indexOf('=');
        if (eq < 0) fail(`Expected key=value host variable assignment, got: ${t}`);
        vars.push([t.slice(0, eq), pyValue(t.slice(eq + 1))]);
      }
      guarded(() => {
        for (const name of names) {
          inv.addHost(name, group, at, port);
          for (const [k, v] of vars) inv.setHostVar(name, k, v, at);
        }
      });
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) fail(`Expected key=value, got: ${line}`);
      const key = line.slice(0, eq).trim();
      const value = pyValue(line.slice(eq + 1).trim());
      guarded(() => inv.setGroupVar(group, key, value, at));
    } else {
      const cm = GROUP_NAME.exec(line);
      if (!cm) fail(`Expected group name, got: ${line}`);
      const child = (cm as RegExpExecArray)[1];
      if (!inv.groups.has(child)) {
        const decl = pending.get(child);
        if (decl) decl.parents.push(group);
        else pending.set(child, { line: lineno, state: 'children', parents: [group] });
      } else guarded(() => inv.addChild(group, child));
    }
  }

  for (const [name, decl] of pending) {
    lineno = decl.line;
    if (decl.state === 'vars') fail(`Section [${name}:vars] not valid for undefined group: ${name}`);
    fail(`Section [${decl.parents[decl.parents.length - 1]}:children] includes undefined group: ${name}`);
  }
}

function addPendingChildren(group: string, pending: Map<string, Pending>, inv: InventoryBuilder): void {
  const decl = pending.get(group);
  if (!decl) return;
  for (const parent of decl.parents) {
    inv.addChild(parent, group);
    const up = pending.get(parent);
    if (up && up.state === 'children') addPendingChildren(parent, pending, inv);
  }
  pending.delete(group);
}
