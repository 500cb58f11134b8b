/**
 * Compose files, read before anything runs: a template whose YAML is broken, or that has no
 * `services:`, is refused with file:line (exit 2) and nothing is created. Then the override file the
 * provider writes beside the workspace (never into the template) to label what Compose creates.
 *
 * YAML 1.1, like Compose v1's PyYAML: merge keys (`<<: *anchor`) resolve, and an unquoted `22:22`
 * would be a sexagesimal number there too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, LineCounter, parseAllDocuments, stringify, type Node, type YAMLMap } from 'yaml';
import { InfraSandboxError } from '../exec';
import { ExitCode } from '../exitCodes';

/** The names Compose looks for, in its order of preference. */
export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

/** What the provider needs to know of a compose file. */
export interface ComposeModel {
  file: string;
  /** `version:` as written (`"2.4"`), when there is one; the override must carry the same. */
  version?: string;
  services: ComposeService[];
  /** Top-level named volumes and networks as written (after anchors and merges). */
  volumes: Record<string, Record<string, unknown>>;
  networks: Record<string, Record<string, unknown>>;
}

export interface ComposeService {
  name: string;
  /** 1-based line of the service's key. */
  line: number;
  hasHealthcheck: boolean;
  /** Services in a profile are not started by a plain `up`. */
  profiles: string[];
  labels: Record<string, string>;
  /** The service declares `networks:` or `network_mode:` (so it does not join `default`). */
  ownNetworking: boolean;
}

/** The compose file of a template folder (exit 2 when there is none). */
export function findComposeFile(templateDir: string): string {
  for (const name of COMPOSE_FILE_NAMES) {
    const file = join(templateDir, name);
    if (existsSync(file)) return file;
  }
  throw new InfraSandboxError(
    `${templateDir} has no compose file (looked for ${COMPOSE_FILE_NAMES.join(', ')})`,
    ExitCode.usage,
  );
}

/** Reads and checks a compose file; throws InfraSandboxError (exit 2) naming file:line:column. */
export function readComposeFile(file: string): ComposeModel {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InfraSandboxError(`${file}: cannot read: ${(err as Error).message}`, ExitCode.usage);
  }
  return parseComposeText(file, text);
}

/** The checks of readComposeFile on text already read. */
export function parseComposeText(file: string, text: string): ComposeModel {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, version: '1.1', prettyErrors: false });
  const fail = (offset: number, message: string): never => {
    const { line, col } = lines.linePos(offset);
    throw new InfraSandboxError(`${file}:${line}:${col}: ${message}`, ExitCode.usage);
  };
  if (!Array.isArray(docs)) fail(0, 'not a YAML document');
  const documents = docs as Exclude<typeof docs, { empty: true }>;
  for (const doc of documents) {
    const error = doc.errors[0];
    if (error) fail(error.pos[0], `invalid YAML: ${error.message.split('\n')[0]}`);
  }
  if (documents.length > 1) fail(documents[1].range[0], 'a compose file holds one YAML document, this one has several');
  const doc = documents[0];
  const root = doc?.contents;
  if (!doc || root === null || root === undefined) fail(0, 'the file is empty: a compose file needs `services:`');
  if (!isMap(root)) fail(rangeStart(root), 'the top level must be a mapping (`services:`, `volumes:` …)');

  let data: Record<string, unknown>;
  try {
    data = doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown>;
  } catch (err) {
    return fail(rangeStart(root), `invalid YAML: ${(err as Error).message}`);
  }
  const rootMap = root as YAMLMap;
  const servicesNode = rootMap.get('services', true) as Node | undefined;
  const services = data.services;
  if (services === undefined)
    fail(0, 'no `services:` — a compose file lists its containers under a top-level `services:` key');
  if (!isPlainObject(services) || Object.keys(services).length === 0) {
    fail(
      rangeStart(servicesNode),
      '`services:` must be a mapping of service names to their settings, with at least one service',
    );
  }

  const version = data.version;
  if (version !== undefined && typeof version !== 'string' && typeof version !== 'number') {
    fail(rangeStart(rootMap.get('version', true) as Node), '`version:` must be a string such as "2.4"');
  }

  if (isMap(servicesNode)) {
    for (const pair of servicesNode.items) {
      if (isScalar(pair.key) && typeof pair.key.value === 'boolean') {
        fail(
          rangeStart(pair.key),
          `service name ${String(pair.key.source ?? pair.key.value)} is read as a boolean by YAML 1.1 (Compose v1): quote it`,
        );
      }
    }
  }

  const result: ComposeService[] = [];
  for (const [name, raw] of Object.entries(services as Record<string, unknown>)) {
    const keyOffset = keyStart(servicesNode, name);
    if (!/^[a-zA-Z0-9._-]+$/.test(name))
      fail(keyOffset, `service name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-'`);
    if (!isPlainObject(raw)) fail(keyOffset, `service ${name}: its settings must be a mapping (image:, command: …)`);
    const service = raw as Record<string, unknown>;
    const healthcheck = service.healthcheck as Record<string, unknown> | undefined;
    result.push({
      name,
      line: lines.linePos(keyOffset).line,
      hasHealthcheck: isPlainObject(healthcheck) && healthcheck.disable !== true && !isNone(healthcheck.test),
      profiles: Array.isArray(service.profiles) ? service.profiles.map(String) : [],
      labels: labelMap(service.labels),
      ownNetworking: service.networks !== undefined || service.network_mode !== undefined,
    });
  }

  return {
    file,
    ...(version !== undefined ? { version: String(version) } : {}),
    services: result,
    volumes: namedEntries(data.volumes),
    networks: namedEntries(data.networks),
  };
}

/**
 * The override file that labels a sandbox's resources (`-f template -f override`): every service
 * gets the sandbox label on its containers; the named volumes and networks the template declares get
 * it too, each copied whole with the label added (Compose v1 replaces a top-level entry from a later
 * file instead of merging it); external ones are left alone (Compose does not create them).
 */
export function composeOverride(model: ComposeModel, labels: Record<string, string>): string {
  const services: Record<string, unknown> = {};
  for (const s of model.services) services[s.name] = { labels: { ...labels } };
  const override: Record<string, unknown> = {};
  if (model.version !== undefined) override.version = model.version;
  override.services = services;

  const volumes: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(model.volumes)) {
    if (isExternal(v)) continue;
    volumes[name] = { ...v, labels: { ...labelMap(v.labels), ...labels } };
  }
  if (Object.keys(volumes).length) override.volumes = volumes;

  const networks: Record<string, unknown> = {};
  for (const [name, n] of Object.entries(model.networks)) {
    if (isExternal(n)) continue;
    networks[name] = { ...n, labels: { ...labelMap(n.labels), ...labels } };
  }
  // The implicit `default` network, when some service joins it.
  if (!('default' in model.networks) && model.services.some((s) => !s.ownNetworking)) {
    networks.default = { labels: { ...labels } };
  }
  if (Object.keys(networks).length) override.networks = networks;

  return (
    '# Written by Infra Sandbox on every up/start: labels what Compose creates for this sandbox.\n' +
    '# Do not edit (it is rewritten); change the template instead.\n' +
    stringify(override, { lineWidth: 0 })
  );
}

// ---------------------------------------------------------------------------------------------

/** `labels:` as a mapping or as a list of `key=value`. */
export function labelMap(labels: unknown): Record<string, string> {
  if (Array.isArray(labels)) {
    const out: Record<string, string> = {};
    for (const item of labels) {
      const [k, ...v] = String(item).split('=');
      out[k] = v.join('=');
    }
    return out;
  }
  if (isPlainObject(labels)) {
    return Object.fromEntries(
      Object.entries(labels).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]),
    );
  }
  return {};
}

function namedEntries(value: unknown): Record<string, Record<string, unknown>> {
  if (!isPlainObject(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isPlainObject(v) ? v : {}]));
}

function isExternal(entry: Record<string, unknown>): boolean {
  return entry.external !== undefined && entry.external !== false;
}

function isNone(test: unknown): boolean {
  return Array.isArray(test) && test[0] === 'NONE';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rangeStart(node: unknown): number {
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  return range ? range[0] : 0;
}

/** Offset of `key` inside a mapping node (its value's offset, or the mapping's, when the key came from a merge). */
function keyStart(map: unknown, key: string): number {
  if (isMap(map)) {
    for (const pair of map.items) {
      if (isScalar(pair.key) && String(pair.key.value) === key) return rangeStart(pair.key);
    }
  }
  return rangeStart(map);
}
