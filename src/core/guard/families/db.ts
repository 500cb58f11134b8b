/**
 * PostgreSQL clients (`psql`, `pg_dump`, `pg_restore`, `pg_dumpall`) and Vault/OpenBao (`vault`,
 * `bao`): the server each connects to, with libpq's precedence — a connection string passed as the
 * database name (URI or `key=value`), then `-h/--host`, then the service file, then `PGHOST` /
 * `PGHOSTADDR` — and Vault's `-address`, `VAULT_AGENT_ADDR`, `VAULT_ADDR` (`BAO_*` for bao).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeURIComponentSafe, hostOfSpec, splitHostList } from '../hostspec';
import type { ExtractContext, Extraction, Extractor, InputProblem, Target, TargetSource } from '../types';
import { argvSource, commandName, displayPlace, envSource, expandPath, fileSource, readText, redact } from './util';

export const extractDb: Extractor = async (argv, ctx) => {
  const tool = commandName(argv[0]);
  const parsed = parsePgArgs(argv, tool);
  return pgTargets(parsed, ctx);
};

export const extractVault: Extractor = async (argv, ctx) => {
  const bao = commandName(argv[0]) === 'bao';
  const result: Extraction = { targets: [], problems: [], notes: [] };
  let flag: { value: string; index: number } | undefined;
  const words: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') break;
    const m = /^--?address(?:=(.*))?$/s.exec(arg);
    if (m) {
      if (m[1] !== undefined) flag = { value: m[1], index: i };
      else if (i + 1 < argv.length) {
        i++;
        flag = { value: argv[i], index: i };
      }
    } else if (!arg.startsWith('-')) words.push(arg);
    else if (/^--?(version|v|h|help)$/.test(arg) && words.length === 0) {
      result.notes.push(`${argv[0]} ${arg} reaches no server`);
      return result;
    }
  }
  if (words[0] === 'version' || words[0] === 'help' || (words.length === 0 && !flag)) {
    result.notes.push(`${commandName(argv[0])} ${words[0] ?? ''} reaches no server`.replace(/ +$/, ''));
    return result;
  }
  if (flag) {
    result.targets.push(
      urlTarget(flag.value, argvSource(flag.index, '-address'), `-address ${flag.value} (argv[${flag.index}])`),
    );
    return result;
  }
  const names = bao
    ? ['BAO_AGENT_ADDR', 'VAULT_AGENT_ADDR', 'BAO_ADDR', 'VAULT_ADDR']
    : ['VAULT_AGENT_ADDR', 'VAULT_ADDR'];
  // The agent address wins over the server address; both count (the agent forwards to a server).
  const agent = names.slice(0, bao ? 2 : 1).find((n) => ctx.env[n]);
  const server = names.slice(bao ? 2 : 1).find((n) => ctx.env[n]);
  for (const name of [agent, server]) {
    if (!name) continue;
    const value = ctx.env[name]!.trim();
    result.targets.push(urlTarget(value, envSource(name), `$${name}=${value}`));
  }
  if (result.targets.length === 0) {
    const value = 'https://127.0.0.1:8200';
    result.targets.push(
      urlTarget(value, { kind: 'default', detail: `no -address, no $${names[names.length - 2]}` }, `default ${value}`),
    );
  }
  return result;
};

function urlTarget(value: string, source: TargetSource, hop: string): Target {
  const host = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? urlHost(value) : hostOfSpec(value);
  if (/^unix:/i.test(value)) return { kind: 'local', name: value, source, chain: [hop] };
  return { kind: 'url', name: value, host, source, chain: [hop] };
}

function urlHost(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(url);
  const host = m?.[1] ?? '';
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL command lines

/** Short options that take a value, per tool (the others are flags). */
const PG_SHORT_VALUES: Record<string, string> = {
  psql: 'cdfvFLoPRThpU',
  pg_dump: 'fFjZEnNStTdhpUe',
  pg_restore: 'dfFIjLnNPStThpU',
  pg_dumpall: 'fESdhlpU',
};
const PG_LONG_VALUES = new Set(
  (
    'host port username dbname file command set variable field-separator log-file output pset record-separator ' +
    'table-attr format jobs compress encoding schema exclude-schema superuser table exclude-table extension ' +
    'exclude-extension role lock-wait-timeout exclude-table-data exclude-table-and-children ' +
    'exclude-table-data-and-children section snapshot include-foreign-data index use-list function trigger ' +
    'rows-per-insert extra-float-digits filter exclude-database database'
  ).split(' '),
);

interface Located {
  value: string;
  index: number;
  flag: string;
}

interface PgArgs {
  tool: string;
  hosts: Located[];
  /** Values that name the database: a plain name, a URI, or a `key=value` conninfo string. */
  dbnames: Located[];
}

/** GNU getopt_long: options anywhere, `--opt=value`, `--opt value`, `-hHOST`, `-h HOST`, `--` ends them. */
function parsePgArgs(argv: readonly string[], tool: string): PgArgs {
  const shortValues = PG_SHORT_VALUES[tool] ?? PG_SHORT_VALUES.psql;
  const out: PgArgs = { tool, hosts: [], dbnames: [] };
  const positionals: Located[] = [];
  let i = 1;
  const take = (name: string, value: string, index: number) => {
    const at: Located = { value, index, flag: name };
    if (name === 'h' || name === 'host') out.hosts.push(at);
    else if (name === 'd' || name === 'dbname' || (tool === 'pg_dumpall' && (name === 'l' || name === 'database')))
      out.dbnames.push(at);
  };
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      for (let j = i + 1; j < argv.length; j++) positionals.push({ value: argv[j], index: j, flag: '' });
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if (eq >= 0) take(name, arg.slice(eq + 1), i);
      else if (PG_LONG_VALUES.has(name) && i + 1 < argv.length) take(name, argv[++i], i);
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      for (let j = 1; j < arg.length; j++) {
        if (!shortValues.includes(arg[j])) continue;
        if (j + 1 < arg.length) take(arg[j], arg.slice(j + 1), i);
        else if (i + 1 < argv.length) take(arg[j], argv[++i], i);
        break;
      }
      continue;
    }
    positionals.push({ value: arg, index: i, flag: '' });
  }
  // psql [dbname [username]], pg_dump [dbname]; pg_restore's operand is a dump file, pg_dumpall has none.
  if ((tool === 'psql' || tool === 'pg_dump') && positionals[0]) out.dbnames.push(positionals[0]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// libpq connection parameters

interface Param {
  value: string;
  source: TargetSource;
  /** How people read where it came from: `argv[2] -h`, `$PGHOST`, `~/.pg_service.conf:4`. */
  where: string;
}

/** `key=value key2='quoted \' value'` → pairs; undefined when it is not a conninfo string. */
export function parseConninfo(text: string): Map<string, string> | undefined {
  if (!text.includes('=')) return undefined;
  const out = new Map<string, string>();
  let i = 0;
  const s = text;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    const key = /^[A-Za-z_][\w]*/.exec(s.slice(i))?.[0];
    if (!key) return undefined;
    i += key.length;
    while (i < s.length && /\s/.test(s[i])) i++;
    if (s[i] !== '=') return undefined;
    i++;
    while (i < s.length && /\s/.test(s[i])) i++;
    let value = '';
    if (s[i] === "'") {
      i++;
      while (i < s.length && s[i] !== "'") {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i++];
      }
      if (s[i] !== "'") return undefined; // unterminated quote
      i++;
    } else {
      while (i < s.length && !/\s/.test(s[i])) {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i++];
      }
    }
    out.set(key, value);
  }
  return out;
}

/** `postgresql://[user[:pw]@][host[:port][,…]][/db][?k=v&…]` → host, hostaddr, service (decoded). */
export function parsePostgresUri(uri: string): Map<string, string> | undefined {
  const m = /^postgres(?:ql)?:\/\/([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?/i.exec(uri.trim());
  if (!m) return undefined;
  const out = new Map<string, string>();
  let authority = m[1];
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  const hosts = splitHostList(authority)
    .map((h) => decodeURIComponentSafe(hostOfSpec(h)))
    .filter((h) => h.length > 0);
  if (hosts.length > 0) out.set('host', hosts.join(','));
  for (const pair of (m[3] ?? '').split('&')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out.set(decodeURIComponentSafe(pair.slice(0, eq)), decodeURIComponentSafe(pair.slice(eq + 1)));
  }
  return out;
}

async function pgTargets(args: PgArgs, ctx: ExtractContext): Promise<Extraction> {
  const result: Extraction = { targets: [], problems: [], notes: [] };
  let host: Param | undefined;
  let hostaddr: Param | undefined;
  let service: Param | undefined;

  // 1. Connection strings given as the database name (later ones override earlier ones).
  for (const d of args.dbnames) {
    const params = /^postgres(?:ql)?:\/\//i.test(d.value) ? parsePostgresUri(d.value) : parseConninfo(d.value);
    if (!params) continue;
    const source = argvSource(d.index, d.flag ? `-${d.flag.length > 1 ? '-' : ''}${d.flag}` : 'dbname');
    const where = `argv[${d.index}] ${/^postgres/i.test(d.value) ? 'connection URI' : 'conninfo'}`;
    if (params.has('host')) host = { value: params.get('host')!, source, where };
    if (params.has('hostaddr')) hostaddr = { value: params.get('hostaddr')!, source, where };
    if (params.has('service')) service = { value: params.get('service')!, source, where };
  }
  // 2. -h/--host.
  const h = args.hosts[args.hosts.length - 1];
  if (!host && h)
    host = {
      value: h.value,
      source: argvSource(h.index, h.flag.length > 1 ? '--host' : '-h'),
      where: `argv[${h.index}] ${h.flag.length > 1 ? '--host' : '-h'}`,
    };
  // 3. The service file, for what is still unset.
  if (!service && ctx.env.PGSERVICE)
    service = { value: ctx.env.PGSERVICE, source: envSource('PGSERVICE'), where: '$PGSERVICE' };
  if (service) {
    const found = await readService(service.value, ctx);
    if ('problem' in found) result.problems.push(found.problem);
    else {
      for (const [key, entry] of found.params) {
        const p: Param = {
          value: entry.value,
          source: fileSource(found.file, entry.line),
          where: displayPlace(found.file, entry.line, ctx),
        };
        if (key === 'host' && !host) host = p;
        if (key === 'hostaddr' && !hostaddr) hostaddr = p;
      }
    }
  }
  // 4. The environment.
  if (!host && ctx.env.PGHOST) host = { value: ctx.env.PGHOST, source: envSource('PGHOST'), where: '$PGHOST' };
  if (!hostaddr && ctx.env.PGHOSTADDR)
    hostaddr = { value: ctx.env.PGHOSTADDR, source: envSource('PGHOSTADDR'), where: '$PGHOSTADDR' };

  const hosts = host ? host.value.split(',').map((x) => x.trim()) : [];
  const addrs = hostaddr ? hostaddr.value.split(',').map((x) => x.trim()) : [];
  const n = Math.max(hosts.length, addrs.length);
  if (n === 0) {
    result.targets.push({
      kind: 'local',
      name: 'default unix socket',
      source: { kind: 'default', detail: 'no host given' },
      chain: ['no -h, no host in the connection string, no $PGHOST: the local unix socket'],
    });
    return result;
  }
  for (let i = 0; i < n; i++) {
    const name = hosts[i] ?? '';
    const addr = addrs[i] ?? (addrs.length === 1 ? addrs[0] : '');
    const hostHop = name
      ? `${name} (${host!.where}${host!.where.startsWith('$') ? `=${redact(host!.value)}` : ''})`
      : undefined;
    if (addr) {
      const chain = [...(hostHop ? [hostHop] : []), `hostaddr ${addr} (${hostaddr!.where})`];
      result.targets.push({
        kind: 'host',
        name: name || addr,
        host: addr,
        source: name ? host!.source : hostaddr!.source,
        chain,
      });
    } else if (!name || name.startsWith('/') || name.startsWith('@')) {
      result.targets.push({
        kind: 'local',
        name: name || 'default unix socket',
        source: host!.source,
        chain: [`${hostHop ?? 'empty host'} (unix socket)`],
      });
    } else {
      result.targets.push({ kind: 'host', name, host: unbracket(name), source: host!.source, chain: [hostHop!] });
    }
  }
  return result;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** The `[service]` section of $PGSERVICEFILE or ~/.pg_service.conf, else $PGSYSCONFDIR/pg_service.conf. */
async function readService(
  name: string,
  ctx: ExtractContext,
): Promise<{ file: string; params: Map<string, { value: string; line: number }> } | { problem: InputProblem }> {
  const userFile = ctx.env.PGSERVICEFILE
    ? expandPath(ctx.env.PGSERVICEFILE, ctx.cwd, ctx.home)
    : join(ctx.home, '.pg_service.conf');
  const sysFile = join(ctx.env.PGSYSCONFDIR ?? '/etc/postgresql-common', 'pg_service.conf');
  for (const file of [userFile, sysFile]) {
    if (!existsSync(file)) continue;
    const read = await readText(file);
    if ('problem' in read) return read;
    const params = new Map<string, { value: string; line: number }>();
    let inSection = false;
    let found = false;
    read.text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const section = /^\[(.*)\]$/.exec(line);
      if (section) {
        inSection = section[1] === name;
        found ||= inSection;
        return;
      }
      const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
      if (inSection && kv && !params.has(kv[1])) params.set(kv[1], { value: kv[2], line: i + 1 });
    });
    if (found) return { file, params };
  }
  return {
    problem: {
      file: userFile,
      line: 1,
      column: 1,
      message: `PostgreSQL service "${name}" is not defined in ${userFile} or ${sysFile}`,
    },
  };
}
