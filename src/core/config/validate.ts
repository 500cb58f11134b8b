import type { ErrorObject, ValidateFunction } from 'ajv';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { Resolver as DnsResolver } from 'node:dns';
import { boundaryFromConfig, boundaryProblems } from '../guard/boundary';
import { compileConfigSchema } from './compiledSchema';
import type { ConfigProblem, ConfigResult, WorkspaceConfig } from './types';

/**
 * Parses and validates the text of an `infra-sandbox.yaml`. Every problem carries the file, the
 * 1-based line and column of the offending key or value, and the dotted key path.
 */
export function validateConfigText(file: string, text: string): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offsetStart: number, offsetEnd: number, key: string, message: string): ConfigProblem => {
    const start = lines.linePos(offsetStart);
    const end = lines.linePos(Math.max(offsetStart, offsetEnd));
    return { file, line: start.line, column: start.col, endLine: end.line, endColumn: end.col, key, message };
  };

  if (doc.errors.length > 0) {
    return {
      ok: false,
      file,
      problems: doc.errors.map((e) => at(e.pos[0], e.pos[1], '', `YAML syntax: ${firstLine(e.message)}`)),
    };
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) {
    return { ok: false, file, problems: [at(0, 0, '', 'the file is empty; it needs at least "version: 1"')] };
  }

  const validate = compiledSchema();
  const problems: ConfigProblem[] = [];
  if (!validate(data)) {
    for (const error of pruneErrors(validate.errors ?? [])) {
      const located = locate(doc, error);
      const [s, e] = located.range;
      problems.push(at(s, e, located.key, describe(error)));
    }
  }
  if (problems.length === 0) problems.push(...crossReferences(doc, data as WorkspaceConfig, at));
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return problems.length > 0 ? { ok: false, file, problems } : { ok: true, file, config: data as WorkspaceConfig };
}

let compiled: ValidateFunction | undefined;
function compiledSchema(): ValidateFunction {
  // Made on first use, not at module load: this module is reached from the extension's activation.
  compiled ??= compileConfigSchema();
  return compiled;
}

/** Drops the errors that only repeat another one (an `if`/`$ref` wrapper, or a duplicate per path). */
function pruneErrors(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    // `propertyNames` repeats the inner error, which carries the offending name itself.
    if (e.keyword === 'if' || e.keyword === 'propertyNames') return false;
    const id = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

type Segment = string | number;

function pathOf(pointer: string): Segment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function dotted(path: Segment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** Finds the source range to underline for an error: the key for unknown/misnamed keys, else the value. */
function locate(doc: Document, error: ErrorObject): { range: [number, number]; key: string } {
  const path = pathOf(error.instancePath);
  const extraKey =
    error.keyword === 'additionalProperties'
      ? String((error.params as { additionalProperty: string }).additionalProperty)
      : error.propertyName;
  if (extraKey !== undefined) {
    const parent = doc.getIn(path, true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === extraKey);
      const keyNode = pair?.key as Node | undefined;
      if (keyNode?.range) return { range: [keyNode.range[0], keyNode.range[1]], key: dotted([...path, extraKey]) };
    }
  }
  // The value node, or the nearest ancestor that exists in the document.
  for (let n = path.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as Node | null | undefined;
    if (node?.range) {
      // For a missing required key, underline the parent's first line rather than the whole block.
      if (error.keyword === 'required' && n === path.length && isMap(node)) {
        const pair = node.items[0];
        const first = pair && isPair(pair) ? (pair.key as Node | null) : null;
        const end = first?.range ? first.range[1] : node.range[0];
        const keyPair = findKeyOfValue(doc, path);
        if (keyPair) return { range: keyPair, key: dotted(path) };
        return { range: [node.range[0], end], key: dotted(path) };
      }
      return { range: [node.range[0], node.range[1]], key: dotted(path) };
    }
  }
  return { range: [0, 0], key: dotted(path) };
}

/** The range of the key whose value lives at `path` (e.g. `lab:` for /sandboxes/lab). */
function findKeyOfValue(doc: Document, path: Segment[]): [number, number] | undefined {
  if (path.length === 0) return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const last = path[path.length - 1];
  const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(last));
  const key = pair?.key as Node | undefined;
  return key?.range ? [key.range[0], key.range[1]] : undefined;
}

const FRIENDLY_PATTERNS: Record<string, string> = {
  '#/definitions/cidr/pattern': 'must be a network in CIDR notation, e.g. 192.168.1.0/24 or fd00::/8',
  '#/definitions/dnsLabel/pattern':
    "must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
  '#/definitions/duration/pattern': 'must be a duration such as 30m, 8h or 2d',
};

function describe(error: ErrorObject): string {
  const got = error.data === undefined ? '' : ` (got ${JSON.stringify(error.data)})`;
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return `unknown key "${String(p.additionalProperty)}"${allowed.length ? `; expected one of: ${allowed.join(', ')}` : ''}`;
    }
    case 'required':
      return `missing required key "${String(p.missingProperty)}"`;
    case 'type':
      return `must be ${article(String(p.type))}${got}`;
    case 'enum':
      return `must be one of: ${(p.allowedValues as unknown[]).map(String).join(', ')}${got}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}${got}`;
    case 'pattern':
      return `${FRIENDLY_PATTERNS[error.schemaPath] ?? `must match ${String(p.pattern)}`}${got}`;
    default:
      return `${error.message ?? 'is invalid'}${got}`;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

/** Checks the schema cannot express: gates must name sandboxes that exist; networks must be networks. */
function crossReferences(
  doc: Document,
  config: WorkspaceConfig,
  at: (s: number, e: number, key: string, message: string) => ConfigProblem,
): ConfigProblem[] {
  const names = new Set(Object.keys(config.sandboxes ?? {}));
  const problems: ConfigProblem[] = [];
  for (const kind of ['idempotence', 'plan'] as const) {
    (config.gates?.[kind] ?? []).forEach((gate, i) => {
      if (gate.sandbox === undefined || names.has(gate.sandbox)) return;
      const path = ['gates', kind, i, 'sandbox'];
      const node = doc.getIn(path, true) as Node | undefined;
      const [s, e] = node?.range ?? [0, 0];
      const known = [...names];
      problems.push(
        at(
          s,
          e,
          dotted(path),
          `unknown sandbox "${gate.sandbox}"; ${known.length ? `defined: ${known.join(', ')}` : 'no sandboxes are defined'}`,
        ),
      );
    });
  }
  // The boundary: networks that are no networks (`192.168.1.0/33`, `10/8`) and empty patterns.
  for (const p of boundaryProblems(boundaryFromConfig(config))) {
    const path = p.key
      .split(/\.|\[(\d+)\]/)
      .filter((x) => x !== undefined && x !== '')
      .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
    const node = doc.getIn(path, true) as Node | undefined;
    const [s, e] = node?.range ?? [0, 0];
    problems.push(
      at(s, e, dotted(path), `${JSON.stringify(p.value)}${p.message.startsWith('"') ? ':' : ''} ${p.message}`),
    );
  }
  (config.guard?.dnsServers ?? []).forEach((server, i) => {
    try {
      new DnsResolver().setServers([server]);
    } catch {
      const path = ['guard', 'dnsServers', i];
      const node = doc.getIn(path, true) as Node | undefined;
      const [s, e] = node?.range ?? [0, 0];
      problems.push(
        at(
          s,
          e,
          dotted(path),
          `${JSON.stringify(server)} is not an IP address with an optional port (1.2.3.4, 1.2.3.4:53, [::1]:53)`,
        ),
      );
    }
  });
  return problems;
}
