/**
 * Inventory host names as Ansible reads them: `host:port`, `[v6]:port`, and ranges —
 * `web[01:03]` (zero padded), `web[1:10:2]` (stride), `db-[a:c]`, several ranges in one name.
 * Ports of ansible/parsing/utils/addresses.py and ansible/inventory/helpers expand_hostname_range.
 */

/** More names than this from one pattern is a mistake (or an attack), never a real inventory. */
export const MAX_RANGE_HOSTS = 100_000;

const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const V6 = String.raw`(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const V4 = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
const LABEL = String.raw`(?:[\p{L}\p{N}_]|${ALNUM_RANGE})(?:[\p{L}\p{N}_-]|${ALNUM_RANGE})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
const IPV4 = new RegExp(String.raw`^(?:${V4}\.){3}${V4}$`, 'i');
const IPV6 = new RegExp(
  '^(?:' +
    [
      `(?:${V6}:){7}${V6}`,
      `(?:${V6}:){1,6}:`,
      `(?:${V6}:)(?::${V6}){1,6}`,
      `(?:${V6}:){2}(?::${V6}){1,5}`,
      `(?:${V6}:){3}(?::${V6}){1,4}`,
      `(?:${V6}:){4}(?::${V6}){1,3}`,
      `(?:${V6}:){5}(?::${V6}){1,2}`,
      `(?:${V6}:){6}(?::${V6})`,
      `:(?::${V6}){1,6}`,
      `${V6}?::`,
      `(?:0:){6}(?:${V6}\\.){3}${V6}`,
      `::(?:ffff:)?(?:${V6}\\.){3}${V6}`,
      `(?:0:){5}ffff:(?:${V6}\\.){3}${V6}`,
    ].join('|') +
    ')$',
  'i',
);
const HOSTNAME = new RegExp(String.raw`^${LABEL}(?:\.${LABEL})*$`, 'iu');

/**
 * `parse_address`: the host and optional port of `host`, `host:22`, `[::1]:22`, `10.0.0.[1:3]`.
 * Returns undefined when Ansible would not recognise it as a host identifier.
 */
export function parseAddress(address: string, allowRanges: boolean): { host: string; port?: number } | undefined {
  let rest = address;
  let port: number | undefined;
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(rest);
    if (m) {
      rest = m[1];
      port = Number(m[2]);
    }
  }
  if (!IPV4.test(rest) && !IPV6.test(rest) && !HOSTNAME.test(rest)) return undefined;
  if (!allowRanges && rest.includes('[')) return undefined;
  return { host: rest, port };
}

export class HostPatternError extends Error {}

/**
 * `_expand_hostpattern` of Ansible's file inventory plugins: a host pattern → its names and port.
 * Throws HostPatternError with Ansible's own message for a malformed range.
 */
export function expandHostPattern(pattern: string): { names: string[]; port?: number } {
  // No port and no range: the name as written, whether or not it is a valid address.
  if (!pattern.includes(':') && !pattern.includes('[')) return { names: [pattern] };
  const parsed = parseAddress(pattern, true);
  const base = parsed ? parsed.host : pattern;
  const names = base.includes('[') ? expandRanges(base) : [base];
  return { names, port: parsed?.port };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `expand_hostname_range`: the first `[a:b(:s)]` expanded, recursively for the others. */
export function expandRanges(name: string): string[] {
  const out: string[] = [];
  expandInto(name, out);
  return out;
}

function expandInto(line: string, out: string[]): void {
  // Python: replace the first '[' and the first ']' by '|', then split on '|' into exactly three parts.
  const open = line.indexOf('[');
  const close = line.indexOf(']');
  const parts = replaceFirst(replaceFirst(line, '[', '|'), ']', '|').split('|');
  if (parts.length !== 3 || close < open) {
    throw new HostPatternError(`host range must be a single [begin:end] or [begin:end:step] expression: ${line}`);
  }
  const [head, nrange, tail] = parts;
  const bounds = nrange.split(':');
  if (bounds.length !== 2 && bounds.length !== 3)
    throw new HostPatternError('host range must be begin:end or begin:end:step');
  const beg = bounds[0] || '0';
  const end = bounds[1];
  const step = bounds.length === 3 ? bounds[2] : '1';
  if (!end) throw new HostPatternError('host range must specify end value');
  let fill = (x: number | string): string => String(x);
  if (beg[0] === '0' && beg.length > 1) {
    if (beg.length !== end.length)
      throw new HostPatternError('host range must specify equal-length begin and end formats');
    fill = (x) => String(x).padStart(beg.length, '0');
  }
  const stride = pyInt(step);
  if (stride === 0) throw new HostPatternError('host range step must not be zero');
  let seq: (string | number)[];
  const iBeg = beg.length === 1 ? LETTERS.indexOf(beg) : -1;
  const iEnd = end.length === 1 ? LETTERS.indexOf(end) : -1;
  if (iBeg >= 0 && iEnd >= 0) {
    if (iBeg > iEnd) throw new HostPatternError('host range must have begin <= end');
    seq = [];
    if (stride > 0) for (let i = iBeg; i <= iEnd; i += stride) seq.push(LETTERS[i]);
  } else {
    const b = pyInt(beg);
    const e = pyInt(end);
    if ((e - b) / stride + out.length > MAX_RANGE_HOSTS) {
      throw new HostPatternError(`host range expands to more than ${MAX_RANGE_HOSTS} hosts`);
    }
    seq = [];
    for (let i = b; stride > 0 ? i <= e : i > e + 1; i += stride) seq.push(i);
  }
  for (const x of seq) {
    const name = `${head}${fill(x)}${tail}`;
    if (name.includes('[')) expandInto(name, out);
    else out.push(name);
    if (out.length > MAX_RANGE_HOSTS)
      throw new HostPatternError(`host range expands to more than ${MAX_RANGE_HOSTS} hosts`);
  }
}

function replaceFirst(s: string, what: string, by: string): string {
  const i = s.indexOf(what);
  return i < 0 ? s : s.slice(0, i) + by + s.slice(i + 1);
}

function pyInt(s: string): number {
  const t = s.trim().replace(/_/g, '');
  if (!/^[+-]?[0-9]+$/.test(t)) throw new HostPatternError(`invalid literal for int() with base 10: '${s}'`);
  return Number(t);
}
