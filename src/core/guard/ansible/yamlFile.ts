/**
 * YAML as Ansible reads it (PyYAML, YAML 1.1: `yes`/`no`/`on`/`off` booleans, merge keys,
 * duplicate keys allowed, `!vault` and `!unsafe` tags), keeping where every key was written.
 * Also reads group_vars/host_vars files.
 */
import {
  isAlias,
  isMap,
  isScalar,
  LineCounter,
  parseDocument,
  Scalar,
  type Document,
  type Node,
  type Pair,
  type ParsedNode,
  type ScalarTag,
  type Tags,
  type YAMLMap,
} from 'yaml';
import type { InputProblem } from '../types';
import type { Place } from './model';

const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;

const pyBool = (value: boolean, test: RegExp): ScalarTag => ({
  identify: (v) => v === value,
  default: true,
  tag: 'tag:yaml.org,2002:bool',
  test,
  resolve: () => new Scalar(value),
});

/** `!vault |` values stay opaque, shaped as `ansible-inventory --list` prints them. */
const vaultTag: ScalarTag = {
  tag: '!vault',
  resolve: (text) => ({ __ansible_vault: text }),
};
const unsafeTag: ScalarTag = { tag: '!unsafe', resolve: (text) => text };

function ansibleTags(tags: Tags): Tags {
  const kept = tags.filter((t) => {
    const tag = (t as { tag?: string }).tag;
    return tag !== 'tag:yaml.org,2002:bool' && tag !== 'tag:yaml.org,2002:timestamp';
  });
  return [...kept, pyBool(true, PY_TRUE), pyBool(false, PY_FALSE), vaultTag, unsafeTag];
}

export interface ParsedYaml {
  doc: Document.Parsed;
  lines: LineCounter;
  file: string;
}

/** Parses one YAML document; a syntax error is a problem at its line and column. */
export function parseYaml(text: string, file: string): { yaml: ParsedYaml } | { problem: InputProblem } {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    merge: true,
    uniqueKeys: false,
    customTags: ansibleTags,
    lineCounter: lines,
    prettyErrors: false,
  });
  const err = doc.errors[0];
  if (err) {
    const pos = lines.linePos(err.pos[0]);
    const message = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    return { problem: { file, line: pos.line, column: pos.col, message: `YAML syntax error: ${message}` } };
  }
  return { yaml: { doc, lines, file } };
}

/** The place of a node (its first character). */
export function placeOf(y: ParsedYaml, node: Node | null | undefined): Place {
  const offset = node?.range?.[0];
  return { file: y.file, line: offset === undefined ? 0 : y.lines.linePos(offset).line };
}

/** A node with aliases followed. */
export function deref(y: ParsedYaml, node: unknown): ParsedNode | null {
  let n = node as ParsedNode | null;
  for (let i = 0; i < 100 && n && isAlias(n); i++) n = (n.resolve(y.doc) as ParsedNode | undefined) ?? null;
  return n ?? null;
}

/** The JavaScript value of a node (aliases and merge keys applied). */
export function valueOf(y: ParsedYaml, node: unknown): unknown {
  const n = deref(y, node);
  if (n === null) return null;
  if (isScalar(n)) return n.value;
  return n.toJS(y.doc, { maxAliasCount: 1000 });
}

export interface Entry {
  key: unknown;
  keyNode: ParsedNode | null;
  value: ParsedNode | null;
}

/**
 * The entries of a mapping in order, later duplicates replacing earlier ones in place, merge keys
 * (`<<: *defaults`) contributing the keys the mapping does not set itself.
 */
export function entriesOf(y: ParsedYaml, map: YAMLMap): Entry[] {
  const own = new Map<unknown, Entry>();
  const merged: Entry[] = [];
  for (const pair of map.items as Pair<ParsedNode | null, ParsedNode | null>[]) {
    const keyNode = pair.key;
    const key = keyNode === null ? null : isScalar(keyNode) ? keyNode.value : valueOf(y, keyNode);
    if (typeof key === 'symbol' || key === '<<') {
      const src = deref(y, pair.value);
      const sources = src && isMap(src) ? [src] : src && 'items' in src ? (src.items as unknown[]) : [];
      for (const s of sources) {
        const m = deref(y, s);
        if (m && isMap(m)) merged.push(...entriesOf(y, m));
      }
      continue;
    }
    own.set(key, { key, keyNode, value: pair.value });
  }
  const out = [...own.values()];
  for (const e of merged) {
    if (!own.has(e.key)) {
      own.set(e.key, e);
      out.push(e);
    }
  }
  return out;
}

export interface VarsFile {
  vars: Record<string, unknown>;
  sources: Record<string, Place>;
}

/** A group_vars/host_vars file: a mapping (or nothing); anything else is a problem. */
export function readVarsText(
  text: string,
  file: string,
): { vars: VarsFile } | { problem: InputProblem } | { vault: true } {
  if (text.startsWith('$ANSIBLE_VAULT;')) return { vault: true };
  const parsed = parseYaml(text, file);
  if ('problem' in parsed) {
    // Ansible tries JSON first; a JSON document YAML cannot read still counts.
    try {
      const data: unknown = JSON.parse(text);
      if (isPlainObject(data)) return { vars: { vars: data, sources: keysAt(data, { file, line: 0 }) } };
    } catch {
      // Report the YAML error.
    }
    return parsed;
  }
  const y = parsed.yaml;
  const root = deref(y, y.doc.contents);
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    return { vars: { vars: {}, sources: {} } };
  }
  if (!isMap(root)) {
    return { problem: { file, line: placeOf(y, root).line, message: 'variables file must be a mapping (key: value)' } };
  }
  const vars: Record<string, unknown> = {};
  const sources: Record<string, Place> = {};
  for (const e of entriesOf(y, root)) {
    const key = String(e.key);
    vars[key] = valueOf(y, e.value);
    sources[key] = placeOf(y, e.keyNode);
  }
  return { vars: { vars, sources } };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keysAt(data: Record<string, unknown>, at: Place): Record<string, Place> {
  const out: Record<string, Place> = {};
  for (const k of Object.keys(data)) out[k] = at;
  return out;
}
