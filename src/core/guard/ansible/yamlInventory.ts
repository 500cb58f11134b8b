/**
 * Ansible's YAML inventory format (a port of ansible/plugins/inventory/yaml.py): top-level keys
 * are groups, each with `hosts`, `vars` and `children` (nested to any depth); host keys may be
 * ranges; a null host or group is fine. Every host and variable keeps its line.
 */
import { isMap, isScalar, type ParsedNode } from 'yaml';
import type { InputProblem } from '../types';
import { expandHostPattern, HostPatternError } from './hostPattern';
import { InventoryError, type InventoryBuilder } from './model';
import { deref, entriesOf, placeOf, valueOf, type Entry, type ParsedYaml } from './yamlFile';

export type YamlInventoryResult =
  | { kind: 'parsed'; warnings: string[] }
  /** Not a YAML inventory at all (empty, or not a mapping): Ansible moves on to the INI parser. */
  | { kind: 'not-inventory'; reason: string }
  /** An inventory plugin configuration (`plugin: constructed`, `plugin: aws_ec2`…). */
  | { kind: 'plugin'; plugin: string; data: Record<string, unknown> }
  /** A YAML inventory with a structural mistake; what came before it stays in the inventory. */
  | { kind: 'failed'; problem: InputProblem };

class YamlInventoryError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseYamlInventory(y: ParsedYaml, inv: InventoryBuilder): YamlInventoryResult {
  const root = deref(y, y.doc.contents);
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    return { kind: 'not-inventory', reason: 'Parsed empty YAML file' };
  }
  if (!isMap(root))
    return { kind: 'not-inventory', reason: 'YAML inventory has invalid structure, it should be a dictionary' };
  const top = entriesOf(y, root);
  const pluginEntry = top.find((e) => e.key === 'plugin');
  if (pluginEntry && valueOf(y, pluginEntry.value)) {
    return {
      kind: 'plugin',
      plugin: String(valueOf(y, pluginEntry.value)),
      data: valueOf(y, root) as Record<string, unknown>,
    };
  }
  const warnings: string[] = [];
  try {
    for (const e of top) parseGroup(y, inv, e, warnings);
    return { kind: 'parsed', warnings };
  } catch (err) {
    if (err instanceof YamlInventoryError)
      return { kind: 'failed', problem: { file: y.file, line: err.line, message: err.message } };
    throw err;
  }
}

const SECTIONS = ['vars', 'children', 'hosts'] as const;

function parseGroup(y: ParsedYaml, inv: InventoryBuilder, entry: Entry, warnings: string[]): string | undefined {
  const at = placeOf(y, entry.keyNode);
  const fail = (message: string, line = at.line): never => {
    throw new YamlInventoryError(line, message);
  };
  const data = deref(y, entry.value);
  const isNull = data === null || (isScalar(data) && data.value === null);
  if (!isNull && !isMap(data)) {
    warnings.push(`${at.file}:${at.line}: skipping '${String(entry.key)}' as this is not a valid group definition`);
    return undefined;
  }
  if (typeof entry.key !== 'string' || !entry.key) {
    fail(`Unable to add group ${String(entry.key)}: Invalid group name supplied, expected a string`);
  }
  const group = entry.key as string;
  inv.addGroup(group, at);
  if (isNull || !isMap(data)) return group;

  const entries = entriesOf(y, data);
  const sections = new Map<
    string,
    { kind: 'map'; entries: Entry[] } | { kind: 'one'; name: string; node: ParsedNode | null }
  >();
  for (const e of entries) {
    if (!SECTIONS.includes(e.key as (typeof SECTIONS)[number])) continue;
    const v = deref(y, e.value);
    if (v !== null && isScalar(v) && typeof v.value === 'string') {
      sections.set(e.key as string, { kind: 'one', name: v.value, node: v });
    } else if (v !== null && !isMap(v) && !(isScalar(v) && v.value === null)) {
      const type = isScalar(v) ? typeof v.value : 'items' in v ? 'list' : 'value';
      fail(
        `Invalid "${String(e.key)}" entry for "${group}" group, requires a dictionary, found "${type}" instead.`,
        placeOf(y, e.keyNode).line,
      );
    }
  }

  for (const e of entries) {
    const key = e.key;
    const v = deref(y, e.value);
    const section = typeof key === 'string' ? sections.get(key) : undefined;
    if (section?.kind === 'one') {
      const one = { key: section.name, keyNode: section.node, value: null };
      applySection(y, inv, group, key as string, [one], warnings);
      continue;
    }
    if (v === null || (isScalar(v) && v.value === null)) continue;
    if (!isMap(v)) {
      warnings.push(
        `${at.file}:${placeOf(y, e.keyNode).line}: skipping key (${String(key)}) in group (${group}) as it is not a mapping`,
      );
      continue;
    }
    if (key === 'vars' || key === 'children' || key === 'hosts')
      applySection(y, inv, group, key, entriesOf(y, v), warnings);
    else {
      warnings.push(
        `${at.file}:${placeOf(y, e.keyNode).line}: skipping unexpected key (${String(key)}) in group (${group}), only "vars", "children" and "hosts" are valid`,
      );
    }
  }
  return group;
}

function applySection(
  y: ParsedYaml,
  inv: InventoryBuilder,
  group: string,
  section: string,
  entries: Entry[],
  warnings: string[],
): void {
  for (const e of entries) {
    const at = placeOf(y, e.keyNode);
    try {
      if (section === 'vars') {
        inv.setGroupVar(group, String(e.key), valueOf(y, e.value), at);
      } else if (section === 'children') {
        // A skipped (non-mapping) child is still linked by name, which fails unless it exists.
        const child = parseGroup(y, inv, e, warnings) ?? String(e.key);
        inv.addChild(group, child);
      } else {
        if (typeof e.key !== 'string') {
          throw new YamlInventoryError(
            at.line,
            `Host pattern ${String(e.key)} must be a string. Enclose integers/floats in quotation marks.`,
          );
        }
        const { names, port } = expandHostPattern(e.key);
        const vnode = deref(y, e.value);
        const hostVars: Entry[] = [];
        if (vnode !== null && !(isScalar(vnode) && (vnode.value === null || vnode.value === ''))) {
          if (!isMap(vnode)) {
            throw new YamlInventoryError(
              at.line,
              `Invalid data from file, expected dictionary for the variables of host ${e.key}`,
            );
          }
          hostVars.push(...entriesOf(y, vnode));
        }
        for (const name of names) {
          inv.addHost(name, group, at, port);
          for (const hv of hostVars) inv.setHostVar(name, String(hv.key), valueOf(y, hv.value), placeOf(y, hv.keyNode));
        }
      }
    } catch (err) {
      if (err instanceof InventoryError || err instanceof HostPatternError)
        throw new YamlInventoryError(at.line, err.message);
      throw err;
    }
  }
}
