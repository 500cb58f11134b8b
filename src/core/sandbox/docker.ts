/**
 * The Docker engine through its API (dockerode), for what a CLI would have to be parsed for: which
 * containers a sandbox has (by label, never by name — Compose v1 names `proj_svc_1`, v2 `proj-svc-1`),
 * their state, health, image, addresses and ports, their logs, and their changes while a sandbox comes
 * up. The engine is the one `DOCKER_HOST` names (default: the local unix socket).
 */
import Dockerode from 'dockerode';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InfraSandboxError } from '../exec';
import { ExitCode } from '../exitCodes';

/** A container as the sandbox code needs it (from `GET /containers/{id}/json`). */
export interface ContainerDetails {
  id: string;
  /** Without the leading slash: `isb-lab_node_1` (Compose v1) or `isb-lab-node-1` (v2). */
  name: string;
  /** The image as configured (`infra-sandbox/node:bookworm`). */
  image: string;
  labels: Record<string, string>;
  state: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  exitCode: number;
  /** Undefined when the container has no healthcheck. */
  health?: 'starting' | 'healthy' | 'unhealthy';
  /** Output of the last healthcheck run, when there is one. */
  lastHealthOutput?: string;
  restartPolicy: string;
  tty: boolean;
  /** Compose labels: service, 1-based container number, project. */
  service?: string;
  containerNumber?: number;
  project?: string;
  networks: { name: string; ipv4?: string; ipv6?: string }[];
  /** `127.0.0.1:5432->5432/tcp`; an unpublished port is `5432/tcp`. */
  ports: string[];
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface LogOptions {
  follow?: boolean;
  /** Only the last N lines (default: all). */
  tail?: number;
  signal?: AbortSignal;
}

/** Compose's own labels. */
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const COMPOSE_NUMBER_LABEL = 'com.docker.compose.container-number';

/** Where the Docker client should connect, from `DOCKER_HOST` (docker-modem's rules, but from the env given). */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): {
  display: string;
  options: Dockerode.DockerOptions;
} {
  const host = env.DOCKER_HOST?.trim();
  if (!host) {
    const desktop = join(homedir(), '.docker', 'run', 'docker.sock');
    const socketPath = existsSync(desktop) ? desktop : '/var/run/docker.sock';
    // `host: undefined` on purpose: docker-modem would otherwise take DOCKER_HOST from process.env.
    return { display: `unix://${socketPath}`, options: { socketPath, host: undefined } };
  }
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length) || '/var/run/docker.sock';
    return { display: `unix://${socketPath}`, options: { socketPath, host: undefined } };
  }
  let url: URL;
  try {
    url = new URL(host.includes('//') ? host : `tcp://${host}`);
  } catch {
    throw new InfraSandboxError(
      `DOCKER_HOST=${host} is not an address the Docker client understands (unix:///path, tcp://host:port, ssh://user@host)`,
      ExitCode.usage,
    );
  }
  if (url.protocol === 'ssh:') {
    return {
      display: host,
      options: {
        protocol: 'ssh',
        host: url.hostname,
        port: url.port || 22,
        username: decodeURIComponent(url.username) || undefined,
        socketPath: undefined,
        sshOptions: { agent: env.SSH_AUTH_SOCK },
      },
    };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InfraSandboxError(
      `DOCKER_HOST=${host}: the scheme ${url.protocol} is not supported (unix://, tcp://, ssh://)`,
      ExitCode.usage,
    );
  }
  const tls = env.DOCKER_TLS_VERIFY === '1' || url.port === '2376' || url.protocol === 'https:';
  return {
    display: host,
    options: {
      protocol: tls ? 'https' : 'http',
      host: url.hostname,
      port: url.port || (tls ? 2376 : 2375),
      socketPath: undefined,
      ...(tls && env.DOCKER_CERT_PATH
        ? {
            ca: join(env.DOCKER_CERT_PATH, 'ca.pem'),
            cert: join(env.DOCKER_CERT_PATH, 'cert.pem'),
            key: join(env.DOCKER_CERT_PATH, 'key.pem'),
          }
        : {}),
    },
  };
}

/** One Docker engine. Every failure to reach it becomes the same clear error (exit 4). */
export class DockerEngine {
  /** The dockerode client, for what this class does not wrap. */
  readonly api: Dockerode;
  /** `unix:///var/run/docker.sock`, `tcp://…`: what messages name. */
  readonly endpoint: string;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const { display, options } = dockerEndpoint(env);
    this.endpoint = display;
    this.api = new Dockerode(readCertFiles(options));
  }

  /** Resolves with the engine's version when it answers; throws the exit-4 error otherwise. */
  async engineAvailable(timeoutMs = 5000): Promise<{ version: string; apiVersion: string }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      // dockerode's types omit the options argument; the abort signal is what bounds the wait.
      const version = (await (this.api.version as (o: object) => Promise<unknown>).call(this.api, {
        abortSignal: controller.signal,
      })) as Dockerode.DockerVersion;
      return { version: version.Version, apiVersion: version.ApiVersion };
    } catch (err) {
      if (controller.signal.aborted) throw this.unavailable(`no answer within ${timeoutMs / 1000} s`);
      throw this.translate(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Containers (running or not) carrying every one of `labels`, with their details. */
  async containers(labels: Record<string, string>): Promise<ContainerDetails[]> {
    const summaries = await this.call(() =>
      this.api.listContainers({ all: true, filters: { label: labelFilters(labels) } }),
    );
    const details = await Promise.all(
      summaries.map((s) =>
        this.inspect(s.Id).catch((err: unknown) => {
          // Removed between the list and the inspect (a `down` running meanwhile).
          if (statusCode(err) === 404) return undefined;
          throw err;
        }),
      ),
    );
    return details.filter((d): d is ContainerDetails => d !== undefined).sort(byServiceAndNumber);
  }

  async inspect(id: string): Promise<ContainerDetails> {
    const info = await this.call(() => this.api.getContainer(id).inspect());
    return toDetails(info);
  }

  /** Names of the volumes carrying every one of `labels`. */
  async volumes(labels: Record<string, string>): Promise<string[]> {
    const res = await this.call(() => this.api.listVolumes({ filters: { label: labelFilters(labels) } }));
    return (res.Volumes ?? []).map((v) => v.Name).sort();
  }

  /** Names of the networks carrying every one of `labels`. */
  async networks(labels: Record<string, string>): Promise<string[]> {
    const res = await this.call(() => this.api.listNetworks({ filters: { label: labelFilters(labels) } }));
    return res.map((n) => n.Name).sort();
  }

  /**
   * Removes containers, then networks, then volumes carrying `labels` — what `compose down -v` leaves
   * behind when it could not run (the template is gone) or did not finish.
   */
  async removeAll(labels: Record<string, string>): Promise<{ containers: number; networks: number; volumes: number }> {
    const containers = await this.containers(labels);
    await Promise.all(
      containers.map((c) => this.ignore404(() => this.api.getContainer(c.id).remove({ force: true, v: true }))),
    );
    const networks = await this.networks(labels);
    for (const n of networks) await this.ignore404(() => this.api.getNetwork(n).remove());
    const volumes = await this.volumes(labels);
    for (const v of volumes) await this.ignore404(() => this.api.getVolume(v).remove());
    return { containers: containers.length, networks: networks.length, volumes: volumes.length };
  }

  /** A container's log lines, demultiplexed into stdout and stderr; follows while the container runs. */
  async *logs(id: string, opts: LogOptions = {}): AsyncGenerator<LogLine> {
    const { tty } = await this.inspect(id);
    const container = this.api.getContainer(id);
    const base = {
      stdout: true,
      stderr: true,
      ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
      abortSignal: opts.signal,
    };
    const splitter = new LogSplitter(tty);
    if (!opts.follow) {
      const buffer = await this.call(() => container.logs({ ...base, follow: false }));
      yield* splitter.push(buffer);
      yield* splitter.end();
      return;
    }
    const stream = await this.call(() => container.logs({ ...base, follow: true }));
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) yield* splitter.push(chunk);
    } catch (err) {
      if (!opts.signal?.aborted) throw this.translate(err);
    } finally {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    }
    yield* splitter.end();
  }

  /**
   * Snapshots of the containers carrying `labels`, one at once and then one whenever something may
   * have changed, until the consumer stops or `signal` aborts.
   *
   * Both events and polling, on purpose: the engine's event stream (filtered by the same labels) wakes
   * the watcher the moment a container starts, dies or changes health, so time-to-ready is not
   * rounded up to a poll interval; a poll every `intervalMs` (default 500 ms) covers what a stream
   * can miss — changes before it was opened, a dropped connection, engines whose events differ
   * (Podman's API service).
   */
  async *watch(
    labels: Record<string, string>,
    opts: { signal?: AbortSignal; intervalMs?: number } = {},
  ): AsyncGenerator<ContainerDetails[]> {
    const interval = opts.intervalMs ?? 500;
    const wake = new Wakeup();
    const events = new AbortController();
    const onAbort = () => {
      events.abort();
      wake.wake();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let stream: NodeJS.ReadableStream | undefined;
    try {
      stream = await this.api.getEvents({
        filters: { type: ['container'], label: labelFilters(labels) },
        abortSignal: events.signal,
      } as Dockerode.GetEventsOptions);
      stream.on('data', () => wake.wake());
      stream.on('error', () => undefined); // polling carries on
    } catch {
      // No event stream: polling alone.
    }
    try {
      while (!opts.signal?.aborted) {
        yield await this.containers(labels);
        await wake.sleep(interval);
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      events.abort();
      (stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined)?.destroy?.();
    }
  }

  /** Runs `cmd` in a running container without a TTY and returns its exit code (output discarded). */
  async execExitCode(id: string, cmd: string[]): Promise<number> {
    const exec = await this.call(() =>
      this.api.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true }),
    );
    const stream = await this.call(() => exec.start({ hijack: true, stdin: false }));
    await new Promise<void>((done) => {
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', () => done());
      stream.resume();
    });
    const info = await this.call(() => exec.inspect());
    return info.ExitCode ?? -1;
  }

  /** The exit-4 error: what is unreachable, why, and how to start it. */
  unavailable(reason: string): InfraSandboxError {
    const local = this.endpoint.startsWith('unix://');
    const hint = local
      ? 'start it (e.g. `sudo systemctl start docker`, or `dockerd`)'
      : 'start it, or point DOCKER_HOST at a running engine';
    return new InfraSandboxError(
      `the Docker engine is not running (${this.endpoint}: ${reason}): ${hint}`,
      ExitCode.toolMissing,
    );
  }

  /** Engine connection failures → the exit-4 error; anything else unchanged. */
  translate(err: unknown): unknown {
    const e = err as NodeJS.ErrnoException;
    if (
      e &&
      ['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENOTFOUND'].includes(e.code ?? '')
    ) {
      return this.unavailable(`${e.code}`);
    }
    if (e && e.code === 'EACCES') {
      return new InfraSandboxError(
        `permission denied on the Docker engine socket (${this.endpoint}): add yourself to the \`docker\` group (\`sudo usermod -aG docker $USER\`, then log in again) or run as root`,
        ExitCode.toolMissing,
      );
    }
    return err;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.translate(err);
    }
  }

  private async ignore404(fn: () => Promise<unknown>): Promise<void> {
    try {
      await this.call(fn);
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
  }
}

/**
 * Splits the engine's log stream into lines. Without a TTY the stream is multiplexed: frames of an
 * 8-byte header (stream type, 3 zero bytes, big-endian length) and a payload; with a TTY it is raw.
 */
export class LogSplitter {
  private frames: Buffer = Buffer.alloc(0);
  private readonly partial = { stdout: '', stderr: '' };

  constructor(private readonly tty: boolean) {}

  *push(chunk: Buffer): Generator<LogLine> {
    if (this.tty) {
      yield* this.text('stdout', chunk.toString('utf8'));
      return;
    }
    this.frames = this.frames.length ? Buffer.concat([this.frames, chunk]) : chunk;
    while (this.frames.length >= 8) {
      const type = this.frames[0];
      const length = this.frames.readUInt32BE(4);
      if (type > 2 || this.frames[1] !== 0 || this.frames[2] !== 0 || this.frames[3] !== 0) {
        // Not multiplexed after all: pass the rest through as text.
        const rest = this.frames;
        this.frames = Buffer.alloc(0);
        yield* this.text('stdout', rest.toString('utf8'));
        return;
      }
      if (this.frames.length < 8 + length) break;
      const payload = this.frames.subarray(8, 8 + length);
      this.frames = this.frames.subarray(8 + length);
      yield* this.text(type === 2 ? 'stderr' : 'stdout', payload.toString('utf8'));
    }
  }

  *end(): Generator<LogLine> {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) yield { stream, line: this.partial[stream] };
      this.partial[stream] = '';
    }
  }

  private *text(stream: 'stdout' | 'stderr', text: string): Generator<LogLine> {
    const lines = (this.partial[stream] + text).split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) yield { stream, line: line.replace(/\r$/, '') };
  }
}

/** `{a: 'b'}` → `['a=b']`, the engine's label filter (several are ANDed). */
export function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

/** The engine's inspect answer → ContainerDetails. */
export function toDetails(info: Dockerode.ContainerInspectInfo): ContainerDetails {
  const labels = info.Config?.Labels ?? {};
  const number = Number(labels[COMPOSE_NUMBER_LABEL]);
  const healthLog = info.State.Health?.Log;
  const networks = Object.entries(info.NetworkSettings?.Networks ?? {}).map(([name, n]) => ({
    name,
    ...(n.IPAddress ? { ipv4: n.IPAddress } : {}),
    ...(n.GlobalIPv6Address ? { ipv6: n.GlobalIPv6Address } : {}),
  }));
  const ports: string[] = [];
  for (const [port, bindings] of Object.entries(info.NetworkSettings?.Ports ?? {})) {
    if (!bindings || bindings.length === 0) ports.push(port);
    else for (const b of bindings) ports.push(`${b.HostIp || '0.0.0.0'}:${b.HostPort}->${port}`);
  }
  const health = info.State.Health?.Status;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config?.Image ?? info.Image,
    labels,
    state: (info.State.Status as ContainerDetails['state']) ?? 'dead',
    exitCode: info.State.ExitCode ?? 0,
    ...(health === 'starting' || health === 'healthy' || health === 'unhealthy' ? { health } : {}),
    ...(healthLog?.length ? { lastHealthOutput: healthLog[healthLog.length - 1].Output.trim() } : {}),
    restartPolicy: info.HostConfig?.RestartPolicy?.Name || 'no',
    tty: Boolean(info.Config?.Tty),
    ...(labels[COMPOSE_SERVICE_LABEL] ? { service: labels[COMPOSE_SERVICE_LABEL] } : {}),
    ...(Number.isInteger(number) && number > 0 ? { containerNumber: number } : {}),
    ...(labels[COMPOSE_PROJECT_LABEL] ? { project: labels[COMPOSE_PROJECT_LABEL] } : {}),
    networks,
    ports: ports.sort(),
  };
}

function byServiceAndNumber(a: ContainerDetails, b: ContainerDetails): number {
  return (
    (a.service ?? a.name).localeCompare(b.service ?? b.name) ||
    (a.containerNumber ?? 0) - (b.containerNumber ?? 0) ||
    a.name.localeCompare(b.name)
  );
}

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}

/** dockerode wants the TLS material itself, not paths. */
function readCertFiles(options: Dockerode.DockerOptions): Dockerode.DockerOptions {
  if (typeof options.ca !== 'string') return options;
  return {
    ...options,
    ca: readFileSync(options.ca as string),
    cert: readFileSync(options.cert as string),
    key: readFileSync(options.key as string),
  };
}

/** A sleep that an event can cut short. */
class Wakeup {
  private pending: (() => void) | undefined;
  private woken = false;

  wake(): void {
    this.woken = true;
    this.pending?.();
  }

  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((done) => {
      const finish = () => {
        clearTimeout(timer);
        this.pending = undefined;
        this.woken = false;
        done();
      };
      const timer = setTimeout(finish, ms);
      this.pending = finish;
    });
  }
}
