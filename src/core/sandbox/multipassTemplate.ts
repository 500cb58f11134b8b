/**
 * A multipass sandbox template: a folder with `multipass.yaml` (the nodes: image, CPUs, memory,
 * disk, each node's cloud-init file, and argument vectors to run in nodes once they are up) and the
 * cloud-init files it names. Cloud-init files may use `{{PLACEHOLDERS}}` that the provider fills for
 * each node before `multipass launch --cloud-init -`:
 *
 *   {{SANDBOX}}         the sandbox name                   {{NODE_INDEX}}   1, 2, 3…
 *   {{NODE_NAME}}       isb-<sandbox>-<n>                   {{USER}}         the template's `user`
 *   {{SSH_PUBLIC_KEY}}  the contents of `sshPublicKey`      {{CLUSTER_TOKEN}} a random secret shared by the nodes
 *   {{NAME}}            any entry of the template's `vars`
 *
 * `afterLaunch` steps may also use {{NODE_<n>_IP}} and {{NODE_<n>_NAME}}: they run (`multipass
 * exec`) only after the guard has checked every node's address. Every problem is reported with
 * file:line (exit 2) before anything runs.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { join, resolve } from 'node:path';
import { InfraSandboxError } from '../exec';
import { ExitCode } from '../exitCodes';
import { parseYamlText, readYamlFile, templateError, type YamlFile } from './providerSupport';
import { MULTIPASS_MAX_NODES } from './multipassCli';

export const MULTIPASS_TEMPLATE_FILE = 'multipass.yaml';

export interface MultipassNodeTemplate {
  /** 1-based. */
  index: number;
  role?: string;
  cpus: number;
  memory: string;
  disk: string;
  /** Absolute path of the node's cloud-init file and its text. */
  cloudInitFile: string;
  cloudInit: string;
}

export interface AfterLaunchStep {
  nodes: number[];
  run: string[];
  /** `file:line:col` of the step, for messages. */
  place: string;
}

export interface MultipassTemplate {
  dir: string;
  file: string;
  image: string;
  /** Seconds (`multipass launch --timeout`). */
  launchTimeout: number;
  /** The login user the generated inventory names (`ansible_user`). */
  user: string;
  /** A public key file, `~/` allowed. */
  sshPublicKey: string;
  sshPublicKeyPlace: string;
  vars: Record<string, string>;
  nodes: MultipassNodeTemplate[];
  afterLaunch: AfterLaunchStep[];
}

const BUILTINS = ['SANDBOX', 'NODE_INDEX', 'NODE_NAME', 'USER', 'SSH_PUBLIC_KEY', 'CLUSTER_TOKEN'];
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const SIZE = /^\d+(?:\.\d+)?[KMGT]?(?:i?B)?$/i;
const TOP_KEYS = ['image', 'launchTimeout', 'user', 'sshPublicKey', 'vars', 'defaults', 'nodes', 'afterLaunch'];
const NODE_KEYS = ['role', 'cpus', 'memory', 'disk', 'cloudInit'];
const DEFAULT_KEYS = ['cpus', 'memory', 'disk'];

export async function loadMultipassTemplate(dir: string): Promise<MultipassTemplate> {
  const file = join(dir, MULTIPASS_TEMPLATE_FILE);
  const y = await readYamlFile(file, 'multipass template');
  const root = y.doc.contents;
  if (!isMap(root)) throw templateError(y.place(root), 'multipass template: expected a mapping with `nodes:`');
  unknownKeys(y, root, [], TOP_KEYS);

  const image = optionalString(y, ['image']) ?? 'lts';
  const user = optionalString(y, ['user']) ?? 'ubuntu';
  if (!/^[a-z_][a-z0-9_-]*$/.test(user))
    throw templateError(y.place(y.nodeAt(['user'])), `user: ${JSON.stringify(user)} is not a login name`);
  const sshPublicKey = optionalString(y, ['sshPublicKey']) ?? '~/.ssh/id_ed25519.pub';
  const launchTimeout = integer(y, ['launchTimeout'], 60) ?? 900;

  const vars: Record<string, string> = {};
  const varsNode = y.nodeAt(['vars']);
  if (varsNode !== undefined) {
    if (!isMap(varsNode)) throw templateError(y.place(varsNode), 'vars: expected a mapping of NAME: value');
    for (const pair of varsNode.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!/^[A-Z][A-Z0-9_]*$/.test(key) || BUILTINS.includes(key) || /^NODE_\d+_/.test(key)) {
        throw templateError(
          y.place(pair.key as Node),
          `vars: ${JSON.stringify(key)} must be an UPPER_CASE name that is not one of the built-in placeholders`,
        );
      }
      if (!isScalar(pair.value) || pair.value.value === null || /[\n\r]/.test(String(pair.value.value))) {
        throw templateError(
          y.place((pair.value as Node) ?? (pair.key as Node)),
          `vars.${key}: expected a one-line value`,
        );
      }
      vars[key] = String(pair.value.value);
    }
  }

  const defaultsNode = y.nodeAt(['defaults']);
  if (defaultsNode !== undefined) {
    if (!isMap(defaultsNode))
      throw templateError(y.place(defaultsNode), 'defaults: expected a mapping (cpus, memory, disk)');
    unknownKeys(y, defaultsNode, ['defaults'], DEFAULT_KEYS);
  }
  const defaults = {
    cpus: integer(y, ['defaults', 'cpus'], 1) ?? 1,
    memory: size(y, ['defaults', 'memory']) ?? '1G',
    disk: size(y, ['defaults', 'disk']) ?? '5G',
  };

  const nodesNode = y.nodeAt(['nodes']);
  if (!isSeq(nodesNode) || nodesNode.items.length === 0) {
    throw templateError(
      y.place(nodesNode ?? y.keyAt(['nodes']) ?? root),
      'nodes: expected a list of at least one node',
    );
  }
  if (nodesNode.items.length > MULTIPASS_MAX_NODES) {
    throw templateError(y.place(nodesNode), `nodes: at most ${MULTIPASS_MAX_NODES} nodes`);
  }
  const known = new Set([...BUILTINS, ...Object.keys(vars)]);
  const nodes: MultipassNodeTemplate[] = [];
  for (let i = 0; i < nodesNode.items.length; i++) {
    const path = ['nodes', i];
    const node = nodesNode.items[i] as Node;
    if (!isMap(node)) throw templateError(y.place(node), `nodes[${i}]: expected a mapping with cloudInit:`);
    unknownKeys(y, node, path, NODE_KEYS);
    const cloudInitRel = optionalString(y, [...path, 'cloudInit']);
    if (!cloudInitRel)
      throw templateError(y.place(node), `nodes[${i}].cloudInit: missing (the node's cloud-init file)`);
    const cloudInitFile = resolve(dir, cloudInitRel);
    if (!existsSync(cloudInitFile)) {
      throw templateError(
        y.place(y.nodeAt([...path, 'cloudInit'])),
        `nodes[${i}].cloudInit: ${cloudInitFile} not found`,
      );
    }
    const cloudInit = await readFile(cloudInitFile, 'utf8');
    checkPlaceholders(cloudInitFile, cloudInit, known);
    nodes.push({
      index: i + 1,
      role: optionalString(y, [...path, 'role']),
      cpus: integer(y, [...path, 'cpus'], 1) ?? defaults.cpus,
      memory: size(y, [...path, 'memory']) ?? defaults.memory,
      disk: size(y, [...path, 'disk']) ?? defaults.disk,
      cloudInitFile,
      cloudInit,
    });
  }

  const afterLaunch = readAfterLaunch(y, nodes.length, known);
  return {
    dir,
    file,
    image,
    launchTimeout,
    user,
    sshPublicKey,
    sshPublicKeyPlace: y.place(y.nodeAt(['sshPublicKey']) ?? null),
    vars,
    nodes,
    afterLaunch,
  };
}

/**
 * A node's cloud-init with its placeholders filled; the result must still be YAML (a value that
 * breaks it is reported at the template's line, which substitution keeps).
 */
export function renderCloudInit(node: MultipassNodeTemplate, values: Record<string, string>): string {
  const text = fill(node.cloudInit, values);
  parseYamlText(node.cloudInitFile, text, 'cloud-init (after filling its placeholders)');
  return text;
}

/** An afterLaunch argument vector with its placeholders filled. */
export function renderArgv(argv: readonly string[], values: Record<string, string>): string[] {
  return argv.map((a) => fill(a, values));
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new InfraSandboxError(`no value for ${whole}`, ExitCode.usage);
    if (/[\n\r]/.test(value)) throw new InfraSandboxError(`the value for ${whole} spans lines`, ExitCode.usage);
    return value;
  });
}

function checkPlaceholders(file: string, text: string, known: Set<string>): void {
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (known.has(m[1])) continue;
    const before = text.slice(0, m.index);
    const line = before.split('\n').length;
    const col = m.index - before.lastIndexOf('\n');
    throw templateError(
      `${file}:${line}:${col}`,
      `unknown placeholder ${m[0]} (known: ${[...known].map((k) => `{{${k}}}`).join(', ')})`,
    );
  }
}

function readAfterLaunch(y: YamlFile, count: number, known: Set<string>): AfterLaunchStep[] {
  const node = y.nodeAt(['afterLaunch']);
  if (node === undefined) return [];
  if (!isSeq(node)) throw templateError(y.place(node), 'afterLaunch: expected a list of { nodes: [n…], run: [argv…] }');
  const stepKnown = new Set(known);
  for (let n = 1; n <= count; n++) stepKnown.add(`NODE_${n}_IP`).add(`NODE_${n}_NAME`);
  return node.items.map((item, i) => {
    const path = ['afterLaunch', i];
    if (!isMap(item))
      throw templateError(y.place(item as Node), `afterLaunch[${i}]: expected { nodes: [n…], run: [argv…] }`);
    unknownKeys(y, item, path, ['nodes', 'run']);
    const nodesNode = y.nodeAt([...path, 'nodes']);
    if (!isSeq(nodesNode) || nodesNode.items.length === 0) {
      throw templateError(
        y.place(nodesNode ?? (item as Node)),
        `afterLaunch[${i}].nodes: expected a list of node numbers`,
      );
    }
    const nodes = nodesNode.items.map((n) => {
      const v = isScalar(n) ? n.value : undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > count) {
        throw templateError(
          y.place(n as Node),
          `afterLaunch[${i}].nodes: ${JSON.stringify(v)} is not a node number 1…${count}`,
        );
      }
      return v;
    });
    const runNode = y.nodeAt([...path, 'run']);
    if (
      !isSeq(runNode) ||
      runNode.items.length === 0 ||
      !runNode.items.every((a) => isScalar(a) && typeof a.value === 'string')
    ) {
      throw templateError(
        y.place(runNode ?? (item as Node)),
        `afterLaunch[${i}].run: expected an argument vector (a list of strings), run without a shell`,
      );
    }
    const run = runNode.items.map((a) => String((a as { value: unknown }).value));
    for (const arg of run) {
      for (const m of arg.matchAll(PLACEHOLDER)) {
        if (!stepKnown.has(m[1]))
          throw templateError(y.place(runNode), `afterLaunch[${i}].run: unknown placeholder ${m[0]}`);
      }
    }
    return { nodes, run, place: y.place(item as Node) };
  });
}

function unknownKeys(y: YamlFile, map: YAMLMap, path: (string | number)[], allowed: string[]): void {
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!allowed.includes(key)) {
      const where = path.length ? `${dotted(path)}.` : '';
      throw templateError(
        y.place(pair.key as Node),
        `${where}${key}: unknown key (expected one of ${allowed.join(', ')})`,
      );
    }
  }
}

function optionalString(y: YamlFile, path: (string | number)[]): string | undefined {
  const node = y.nodeAt(path);
  if (node === undefined) return undefined;
  if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) {
    throw templateError(y.place(node), `${dotted(path)}: expected a string`);
  }
  return String(node.value);
}

function integer(y: YamlFile, path: (string | number)[], min: number): number | undefined {
  const node = y.nodeAt(path);
  if (node === undefined) return undefined;
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw templateError(y.place(node), `${dotted(path)}: expected an integer ≥ ${min}`);
  }
  return v;
}

function size(y: YamlFile, path: (string | number)[]): string | undefined {
  const node = y.nodeAt(path);
  if (node === undefined) return undefined;
  const v = isScalar(node) ? String(node.value) : '';
  if (!SIZE.test(v))
    throw templateError(y.place(node), `${dotted(path)}: ${JSON.stringify(v)} is not a size such as 2G or 512M`);
  return v;
}

function dotted(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
