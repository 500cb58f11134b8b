/**
 * Splitting what users type into the host part: `user@host:port`, `[v6]:port`, `ssh://u@h:22/p`,
 * `tcp://h:2376`, `postgresql://u:p@h1,h2:5433/db`. Only splits; address spelling is normalised by
 * ./address.ts when deciding.
 */

/** `user@host`, `host:port`, `[::1]:22`, `user@[fe80::1%eth0]` → the host ("" when none). */
export function hostOfSpec(spec: string): string {
  let s = spec.trim();
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    return end > 0 ? s.slice(1, end) : s.slice(1);
  }
  // More than one colon and no brackets: a bare IPv6 address, keep it whole.
  const colons = s.split(':').length - 1;
  if (colons === 1) s = s.slice(0, s.indexOf(':'));
  return s.replace(/\/.*$/, '');
}

/**
 * The hosts of a URL-like string (`scheme://[user[:pw]@]host[:port][,host2[:port]][/…]`); several
 * for libpq multi-host URIs. Returns [] when the string is not URL-like or has no host (unix sockets).
 */
export function hostsOfUrl(url: string): string[] {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(url.trim());
  if (!m) return [];
  let authority = m[2];
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (!authority) return [];
  return splitHostList(authority)
    .map((h) => decodeURIComponentSafe(hostOfSpec(h)))
    .filter((h) => h.length > 0);
}

/** Splits `h1:5432,[::1]:5433,h3` on commas outside brackets; empty pieces dropped. */
export function splitHostList(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((x) => x.length > 0);
}

/** decodeURIComponent, or the text as it is when it is not valid percent-encoding. */
export function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Formats a TargetSource-like place for people: `host_vars/pi2.yml:3` relative to `base` when inside it. */
export function formatPlace(file: string, line: number | undefined, base: string): string {
  const rel = file.startsWith(base.endsWith('/') ? base : `${base}/`)
    ? file.slice(base.length + (base.endsWith('/') ? 0 : 1))
    : file;
  return line ? `${rel}:${line}` : rel;
}
