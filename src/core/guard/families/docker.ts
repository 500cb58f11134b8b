import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hostOfSpec, hostsOfUrl } from '../hostspec';
import type { ExtractContext, Extraction, Extractor, InputProblem, Target, TargetSource } from '../types';
import { resolveSshDestination } from './ssh';
import { argvSource, commandName, displayPlace, envSource, expandPath, fileSource, readText, shorthands } from './util';

/**
 * The Docker engine a command or an Ansible container connection reaches: `DOCKER_HOST`
 * (`ssh://user@host`, `tcp://host:2376`, `unix:///…`, `npipe://`) or `-H/--host`. Unset or a
 * socket → the local engine (kind 'local').
 */
export function dockerEngineTarget(value: string | undefined, source: TargetSource, via: string): Target {
  const v = (value ?? '').trim();
  if (!v || /^(unix|npipe|fd):/i.test(v)) {
    return {
      kind: 'local',
      name: v || 'local Docker engine',
      source,
      chain: [`${via} → ${v || 'default socket'} (local engine)`],
    };
  }
  const host = hostsOfUrl(v)[0] ?? hostOfSpec(v);
  return { kind: 'docker-engine', name: v, host, source, chain: [`${via} ${v}`] };
}

/**
 * `docker`, `docker-compose`, `podman`: the engine the command talks to. Docker's order: `-H/--host`,
 * `--context`, `$DOCKER_HOST`, `$DOCKER_CONTEXT`, the config's `currentContext`, the local socket; a
 * context's endpoint comes from ~/.docker/contexts/meta/<sha256>/meta.json. An `ssh://` engine is
 * reached with the system ssh, so it goes through `ssh -G` like an ssh destination. Podman:
 * `--url`/`-H`, `--connection`, `$CONTAINER_HOST`, `$CONTAINER_CONNECTION`, else local.
 */
export const extractDocker: Extractor = async (argv, ctx) => {
  const tool = commandName(argv[0]);
  const flags = parseEngineFlags(
    argv,
    tool === 'podman' ? PODMAN_VALUE_FLAGS : tool === 'docker-compose' ? COMPOSE_VALUE_FLAGS : DOCKER_VALUE_FLAGS,
  );
  const result: Extraction = { targets: [], problems: [], notes: [] };
  const sub = flags.subcommand;
  if (sub && LOCAL_SUBCOMMANDS[tool]?.includes(sub)) {
    result.notes.push(`${tool} ${sub} only reads or edits local settings; it reaches no engine`);
    return result;
  }
  if (tool === 'podman') return podmanTargets(flags, ctx);

  const host = flags.values.get('H') ?? flags.values.get('host');
  if (host) return engineTargets(host.value, argvSource(host.index, '-H'), `argv[${host.index}] -H`, ctx, 'docker');
  const configDir = flags.values.get('config')
    ? expandPath(flags.values.get('config')!.value, ctx.cwd, ctx.home)
    : ctx.env.DOCKER_CONFIG
      ? expandPath(ctx.env.DOCKER_CONFIG, ctx.cwd, ctx.home)
      : join(ctx.home, '.docker');
  const flagContext = flags.values.get('context') ?? flags.values.get('c');
  if (flagContext) {
    return contextTargets(
      flagContext.value,
      argvSource(flagContext.index, '--context'),
      `argv[${flagContext.index}] --context`,
      configDir,
      ctx,
    );
  }
  if (ctx.env.DOCKER_HOST)
    return engineTargets(ctx.env.DOCKER_HOST, envSource('DOCKER_HOST'), '$DOCKER_HOST', ctx, 'docker');
  if (ctx.env.DOCKER_CONTEXT)
    return contextTargets(ctx.env.DOCKER_CONTEXT, envSource('DOCKER_CONTEXT'), '$DOCKER_CONTEXT', configDir, ctx);
  const configFile = join(configDir, 'config.json');
  if (existsSync(configFile)) {
    const read = await readJson(configFile);
    if ('problem' in read) return { ...result, problems: [read.problem] };
    const current = (read.value as { currentContext?: unknown } | null)?.currentContext;
    if (typeof current === 'string' && current && current !== 'default') {
      const line = lineOf(read.text, '"currentContext"');
      return contextTargets(
        current,
        fileSource(configFile, line),
        `currentContext, ${displayPlace(configFile, line, ctx)}`,
        configDir,
        ctx,
      );
    }
  }
  result.targets.push(
    dockerEngineTarget(undefined, { kind: 'default', detail: 'no -H, context or $DOCKER_HOST' }, 'default'),
  );
  return result;
};

const DOCKER_VALUE_FLAGS = new Set([
  'H',
  'host',
  'c',
  'context',
  'config',
  'l',
  'log-level',
  'tlscacert',
  'tlscert',
  'tlskey',
]);
const COMPOSE_VALUE_FLAGS = new Set([
  ...DOCKER_VALUE_FLAGS,
  'f',
  'file',
  'p',
  'project-name',
  'profile',
  'ansi',
  'project-directory',
  'env-file',
  'parallel',
  'progress',
]);
const PODMAN_VALUE_FLAGS = new Set(
  (
    'url H host c connection identity log-level root runroot storage-driver storage-opt cgroup-manager conmon ' +
    'events-backend hooks-dir network-cmd-path network-config-dir runtime runtime-flag tmpdir volumepath module ' +
    'config ssh imagestore out'
  ).split(' '),
);
const LOCAL_SUBCOMMANDS: Record<string, string[]> = {
  docker: ['context', 'help', 'completion'],
  'docker-compose': ['help', 'version', 'config', 'convert'],
  podman: ['system connection', 'machine', 'help', 'completion'],
};

interface EngineFlags {
  values: Map<string, { value: string; index: number }>;
  bools: Set<string>;
  subcommand?: string;
}

/** The global options before the subcommand (`docker -H x --context y run …`). */
function parseEngineFlags(argv: readonly string[], valueFlags: ReadonlySet<string>): EngineFlags {
  const flags: EngineFlags = { values: new Map(), bools: new Set() };
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(arg);
    // Shorthands: `-Hssh://deploy@h` and `-Htcp://h:2376` (not matched above), `-H=x`, `-DH x`. A
    // long name written with one dash (`-host x`) keeps the long reading.
    if (/^-[A-Za-z]/.test(arg) && !(m && m[1].length > 1 && valueFlags.has(m[1]))) {
      const s = shorthands(arg, (letter) => valueFlags.has(letter));
      for (const f of s.flags) flags.bools.add(f);
      if (s.valueFlag && s.glued !== undefined) flags.values.set(s.valueFlag, { value: s.glued, index: i });
      else if (s.valueFlag && i + 1 < argv.length) {
        i++;
        flags.values.set(s.valueFlag, { value: argv[i], index: i });
      }
      continue;
    }
    if (!m) {
      flags.subcommand = arg === 'system' && argv[i + 1] === 'connection' ? 'system connection' : arg;
      break;
    }
    const name = m[1];
    const inline = m[2];
    if (inline !== undefined) flags.values.set(name, { value: inline, index: i });
    else if (valueFlags.has(name) && i + 1 < argv.length) {
      i++;
      flags.values.set(name, { value: argv[i], index: i });
    } else flags.bools.add(name);
  }
  return flags;
}

/** An engine address as targets; `ssh://` engines for docker are followed through `ssh -G`. */
async function engineTargets(
  value: string,
  source: TargetSource,
  via: string,
  ctx: ExtractContext,
  tool: 'docker' | 'podman',
): Promise<Extraction> {
  const target = dockerEngineTarget(value, source, via);
  if (target.kind !== 'docker-engine' || tool !== 'docker' || !/^ssh:\/\//i.test(value.trim())) {
    return { targets: [target], problems: [], notes: [] };
  }
  const viaSsh = await resolveSshDestination(value.trim(), source, `${via} ${value}`, ctx);
  const [first, ...rest] = viaSsh.targets;
  const engine: Target = first ? { ...target, host: first.host, chain: first.chain } : target;
  return { targets: [engine, ...rest], problems: viaSsh.problems, notes: viaSsh.notes };
}

/** A docker context's endpoint, from its meta.json. */
async function contextTargets(
  name: string,
  source: TargetSource,
  via: string,
  configDir: string,
  ctx: ExtractContext,
): Promise<Extraction> {
  if (name === 'default') {
    const host = ctx.env.DOCKER_HOST;
    return host
      ? engineTargets(host, envSource('DOCKER_HOST'), `context default (${via}) → $DOCKER_HOST`, ctx, 'docker')
      : { targets: [dockerEngineTarget(undefined, source, `context default (${via})`)], problems: [], notes: [] };
  }
  const metaRoot = join(configDir, 'contexts', 'meta');
  const file = await findContextMeta(metaRoot, name);
  if (!file) {
    return {
      targets: [],
      problems: [
        {
          file: metaRoot,
          line: 1,
          column: 1,
          message: `docker context "${name}" (${via}) does not exist: no meta.json for it under ${metaRoot}`,
        },
      ],
      notes: [],
    };
  }
  const read = await readJson(file);
  if ('problem' in read) return { targets: [], problems: [read.problem], notes: [] };
  const endpoint = (read.value as { Endpoints?: { docker?: { Host?: unknown } } } | null)?.Endpoints?.docker?.Host;
  const line = lineOf(read.text, '"Host"');
  const hop = `context ${name} (${via}; ${displayPlace(file, line, ctx)})`;
  if (typeof endpoint !== 'string' || !endpoint) {
    return { targets: [dockerEngineTarget(undefined, source, `${hop} → no docker endpoint`)], problems: [], notes: [] };
  }
  return engineTargets(endpoint, source, `${hop} → Host`, ctx, 'docker');
}

/** contexts/meta/<sha256(name)>/meta.json, else any meta.json whose Name matches. */
async function findContextMeta(metaRoot: string, name: string): Promise<string | undefined> {
  const direct = join(metaRoot, createHash('sha256').update(name).digest('hex'), 'meta.json');
  if (existsSync(direct)) return direct;
  let dirs: string[];
  try {
    dirs = await readdir(metaRoot);
  } catch {
    return undefined;
  }
  for (const dir of dirs) {
    const file = join(metaRoot, dir, 'meta.json');
    const read = existsSync(file) ? await readJson(file) : undefined;
    if (read && 'value' in read && (read.value as { Name?: unknown } | null)?.Name === name) return file;
  }
  return undefined;
}

async function podmanTargets(flags: EngineFlags, ctx: ExtractContext): Promise<Extraction> {
  const url = flags.values.get('url') ?? flags.values.get('H') ?? flags.values.get('host');
  if (url) return engineTargets(url.value, argvSource(url.index, '--url'), `argv[${url.index}] --url`, ctx, 'podman');
  const connection = flags.values.get('connection') ?? flags.values.get('c');
  if (connection)
    return podmanConnection(
      connection.value,
      argvSource(connection.index, '--connection'),
      `argv[${connection.index}] --connection`,
      ctx,
    );
  if (ctx.env.CONTAINER_HOST)
    return engineTargets(ctx.env.CONTAINER_HOST, envSource('CONTAINER_HOST'), '$CONTAINER_HOST', ctx, 'podman');
  if (ctx.env.CONTAINER_CONNECTION) {
    return podmanConnection(
      ctx.env.CONTAINER_CONNECTION,
      envSource('CONTAINER_CONNECTION'),
      '$CONTAINER_CONNECTION',
      ctx,
    );
  }
  return {
    targets: [
      dockerEngineTarget(
        undefined,
        { kind: 'default', detail: 'no --url, --connection or $CONTAINER_HOST' },
        'default',
      ),
    ],
    problems: [],
    notes: [],
  };
}

/** A podman system connection: podman-connections.json, else a containers.conf service destination. */
async function podmanConnection(
  name: string,
  source: TargetSource,
  via: string,
  ctx: ExtractContext,
): Promise<Extraction> {
  const configHome = ctx.env.XDG_CONFIG_HOME
    ? expandPath(ctx.env.XDG_CONFIG_HOME, ctx.cwd, ctx.home)
    : join(ctx.home, '.config');
  const jsonFile = join(configHome, 'containers', 'podman-connections.json');
  if (existsSync(jsonFile)) {
    const read = await readJson(jsonFile);
    if ('problem' in read) return { targets: [], problems: [read.problem], notes: [] };
    const uri = (read.value as { Connection?: { Connections?: Record<string, { URI?: unknown }> } } | null)?.Connection
      ?.Connections?.[name]?.URI;
    if (typeof uri === 'string') {
      const line = lineOf(read.text, `"${name}"`);
      return engineTargets(
        uri,
        source,
        `connection ${name} (${via}; ${displayPlace(jsonFile, line, ctx)}) →`,
        ctx,
        'podman',
      );
    }
  }
  const confFile = join(configHome, 'containers', 'containers.conf');
  if (existsSync(confFile)) {
    const read = await readText(confFile);
    if ('text' in read) {
      const lines = read.text.split('\n');
      const start = lines.findIndex(
        (l) =>
          l.trim() === `[engine.service_destinations.${name}]` ||
          l.trim() === `[engine.service_destinations."${name}"]`,
      );
      for (let i = start + 1; start >= 0 && i < lines.length && !lines[i].trim().startsWith('['); i++) {
        const m = /^\s*uri\s*=\s*"([^"]*)"/.exec(lines[i]);
        if (m)
          return engineTargets(
            m[1],
            source,
            `connection ${name} (${via}; ${displayPlace(confFile, i + 1, ctx)}) →`,
            ctx,
            'podman',
          );
      }
    }
  }
  return {
    targets: [],
    problems: [
      {
        file: jsonFile,
        line: 1,
        column: 1,
        message: `podman connection "${name}" (${via}) is not defined in ${jsonFile} or ${confFile}`,
      },
    ],
    notes: [],
  };
}

/** Reads and parses a JSON file; a syntax error is a problem at its line. */
async function readJson(file: string): Promise<{ value: unknown; text: string } | { problem: InputProblem }> {
  const read = await readText(file);
  if ('problem' in read) return read;
  try {
    return { value: JSON.parse(read.text) as unknown, text: read.text };
  } catch (err) {
    const message = (err as Error).message;
    const pos = /position (\d+)/.exec(message);
    const line = pos ? read.text.slice(0, Number(pos[1])).split('\n').length : 1;
    return { problem: { file, line, message: `not valid JSON: ${message}` } };
  }
}

/** 1-based line of the first occurrence of `needle` (1 when absent). */
function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  return at < 0 ? 1 : text.slice(0, at).split('\n').length;
}
