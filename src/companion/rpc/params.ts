/**
 * Type guards for the params of every request the companion answers. Each returns undefined when
 * the value is acceptable, else what is wrong (sent back as -32602 Invalid params). They are
 * deliberately small: the message size limit (1 MiB) already bounds the input.
 */
import { isAbsolute } from 'node:path';

export type Check = (value: unknown) => string | undefined;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const MAX_STRING = 64 * 1024;
const MAX_ARGS = 16 * 1024;
/** Nesting allowed in an operation's free-form params (they are journaled and logged as JSON). */
const MAX_DEPTH = 32;

function str(
  o: Obj,
  key: string,
  opts: { optional?: boolean; absolute?: boolean; nonEmpty?: boolean; max?: number } = {},
) {
  const v = o[key];
  if (v === undefined && opts.optional) return undefined;
  if (typeof v !== 'string') return `${key} must be a string`;
  if (v.length > (opts.max ?? MAX_STRING)) return `${key} is too long`;
  if (opts.nonEmpty && v === '') return `${key} must not be empty`;
  if (opts.absolute && !isAbsolute(v)) return `${key} must be an absolute path`;
  return undefined;
}

function strings(o: Obj, key: string, opts: { optional?: boolean; nonEmpty?: boolean } = {}) {
  const v = o[key];
  if (v === undefined && opts.optional) return undefined;
  if (!Array.isArray(v) || v.length > MAX_ARGS || !v.every((s) => typeof s === 'string' && s.length <= MAX_STRING)) {
    return `${key} must be an array of strings`;
  }
  if (opts.nonEmpty && v.length === 0) return `${key} must not be empty`;
  return undefined;
}

function count(o: Obj, key: string, max: number) {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
    return `${key} must be an integer from 0 to ${max}`;
  return undefined;
}

function parser(o: Obj) {
  const v = o.inventoryParser;
  if (v === undefined || v === 'auto' || v === 'builtin' || v === 'ansible') return undefined;
  return 'inventoryParser must be auto, builtin or ansible';
}

function first(...problems: (string | undefined)[]): string | undefined {
  return problems.find((p) => p !== undefined);
}

/** Whether a JSON value nests deeper than `max` (iteratively: a deep value must not blow the stack here). */
export function tooDeep(value: unknown, max = MAX_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(v as object)) stack.push([child, depth + 1]);
  }
  return false;
}

const object =
  (check: (o: Obj) => string | undefined): Check =>
  (v) =>
    isObject(v) ? check(v) : 'params must be an object';

/** Methods without params accept none, an empty array, or any object (extra members are ignored). */
export const noParams: Check = (v) =>
  v === undefined || v === null || isObject(v) ? undefined : 'this method takes no params';

export const startOperationParams: Check = object((o) =>
  first(
    str(o, 'kind', { nonEmpty: true, max: 200 }),
    str(o, 'key', { nonEmpty: true, max: 4096 }),
    str(o, 'configFile', { optional: true, absolute: true }),
    str(o, 'origin', { optional: true, max: 200 }),
    tooDeep(o.params) ? `params nests deeper than ${MAX_DEPTH} levels` : undefined,
  ),
);

export const operationIdParams: Check = object((o) => str(o, 'id', { nonEmpty: true, max: 200 }));

/** `{ finished? }`, or nothing at all (a client sending `undefined` sends `[null]`). */
export const listOperationsParams: Check = (v) =>
  v === undefined || v === null ? undefined : object((o) => count(o, 'finished', 10_000))(v);

export const guardCheckParams: Check = object((o) =>
  first(
    str(o, 'cwd', { absolute: true }),
    str(o, 'configFile', { optional: true }),
    strings(o, 'inventories', { optional: true }),
    str(o, 'limit', { optional: true }),
    str(o, 'kubeconfig', { optional: true }),
    str(o, 'context', { optional: true }),
    strings(o, 'hosts', { optional: true }),
    str(o, 'tfDir', { optional: true }),
    parser(o),
  ),
);

export const guardDecideParams: Check = object((o) =>
  first(
    strings(o, 'argv', { nonEmpty: true }),
    str(o, 'cwd', { absolute: true }),
    isObject(o.env) && Object.values(o.env).every((s) => typeof s === 'string')
      ? undefined
      : 'env must be an object of strings',
    str(o, 'configFile', { optional: true }),
    parser(o),
    o.color === undefined || typeof o.color === 'boolean' ? undefined : 'color must be a boolean',
  ),
);

export const ledgerQueryParams: Check = object((o) =>
  first(str(o, 'configFile', { absolute: true }), count(o, 'limit', 100_000)),
);

export const configFileParams: Check = object((o) => str(o, 'configFile', { absolute: true }));

const stringMap = (v: unknown, what: string): string | undefined =>
  isObject(v) && Object.values(v).every((s) => typeof s === 'string')
    ? undefined
    : `${what} must be an object of strings`;

export const guardFileParams: Check = object((o) =>
  first(
    str(o, 'file', { absolute: true }),
    typeof o.text === 'string' ? undefined : 'text must be a string',
    str(o, 'configFile', { absolute: true }),
    o.overrides === undefined ? undefined : stringMap(o.overrides, 'overrides'),
    typeof o.lookups === 'boolean' ? undefined : 'lookups must be a boolean',
  ),
);

export const guardEnvironmentParams: Check = object((o) =>
  first(str(o, 'cwd', { absolute: true }), stringMap(o.env, 'env'), str(o, 'configFile', { absolute: true })),
);

export const sandboxShellParams: Check = object((o) =>
  first(
    str(o, 'configFile', { absolute: true }),
    str(o, 'name', { nonEmpty: true, max: 63 }),
    str(o, 'member', { optional: true, max: 200 }),
  ),
);
