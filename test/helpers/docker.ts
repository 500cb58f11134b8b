/**
 * The real Docker engine for integration tests (recipe: shared/recipes/real-docker-sandboxes.md).
 *
 * - `ensureDocker()`: when the engine does not answer, starts `dockerd` detached in its own session
 *   (never through systemd, which CI machines do not run), logging to a file in the temp folder, and
 *   waits until it answers. The engine it starts outlives the test run on purpose: the next test file
 *   (and the next run) reuses it.
 * - `ensureNodeImage()`: no registry is reachable, so the Debian base image `infra-sandbox/node:bookworm`
 *   is built once with debootstrap and `docker import`.
 *
 * Both hold a lock (an atomic `mkdir` in the temp folder, with the owner's pid for stale-lock recovery)
 * so that test files running in parallel neither start two engines nor build the image twice.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The local base image of the compose/nodes template (see templates/compose/nodes/README.md). */
export const NODE_IMAGE = 'infra-sandbox/node:bookworm';
/** Debian mirror for debootstrap; `$ISB_DEBIAN_MIRROR` overrides it (e.g. an apt cache on the LAN). */
export const DEBIAN_MIRROR = process.env.ISB_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
/** Where the dockerd this helper starts writes its log. */
export const DOCKERD_LOG = join(tmpdir(), 'infra-sandbox-dockerd.log');

const ENGINE_TIMEOUT_MS = 60_000;
const BUILD_TIMEOUT_MS = 10 * 60_000;

/** Makes sure the Docker engine answers on the default socket, starting `dockerd` if needed. */
export async function ensureDocker(): Promise<void> {
  if (await engineAnswers()) return;
  await withLock('dockerd', ENGINE_TIMEOUT_MS, async () => {
    if (await engineAnswers()) return;
    const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p)) ?? 'dockerd';
    const log = openSync(DOCKERD_LOG, 'a');
    // `detached` runs setsid(): the engine gets its own session and survives this test process.
    const child = spawn(dockerd, [], { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    let spawnError = '';
    child.once('error', (err) => (spawnError = String(err)));
    child.unref();
    const deadline = Date.now() + ENGINE_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`dockerd could not be started: ${spawnError}`);
      if (child.exitCode !== null) break;
      if (await engineAnswers()) return;
      await delay(250);
    }
    const tail = readTail(DOCKERD_LOG, 15);
    throw new Error(
      `the Docker engine did not answer within ${ENGINE_TIMEOUT_MS / 1000} s after starting ${dockerd}` +
        `${child.exitCode !== null ? ` (it exited with code ${child.exitCode})` : ''}; its log (${DOCKERD_LOG}) ends:\n${tail}`,
    );
  });
}

/** Builds `infra-sandbox/node:bookworm` (Debian bookworm + python3) once, when the engine does not have it. */
export async function ensureNodeImage(): Promise<void> {
  await ensureDocker();
  if (await imageExists(NODE_IMAGE)) return;
  await withLock('node-image', BUILD_TIMEOUT_MS, async () => {
    if (await imageExists(NODE_IMAGE)) return;
    const root = join(tmpdir(), `isb-rootfs-${process.pid}`);
    rmSync(root, { recursive: true, force: true });
    try {
      await execFileAsync('debootstrap', ['--variant=minbase', '--include=python3', 'bookworm', root, DEBIAN_MIRROR], {
        maxBuffer: 64 * 1024 * 1024,
        timeout: BUILD_TIMEOUT_MS,
      }).catch((err: { stderr?: string; stdout?: string; message: string }) => {
        const out = `${err.stdout ?? ''}\n${err.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
        throw new Error(`debootstrap from ${DEBIAN_MIRROR} failed (set ISB_DEBIAN_MIRROR for another mirror):\n${out}`);
      });
      trimRootfs(root);
      await importRootfs(root, NODE_IMAGE);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------

async function engineAnswers(): Promise<boolean> {
  try {
    await execFileAsync('docker', ['info', '--format', '{{.ServerVersion}}'], {
      timeout: 10_000,
      env: withoutDockerHost(),
    });
    return true;
  } catch {
    return false;
  }
}

async function imageExists(image: string): Promise<boolean> {
  try {
    await execFileAsync('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { env: withoutDockerHost() });
    return true;
  } catch {
    return false;
  }
}

/** The tests use the default socket, whatever the developer's shell exports. */
function withoutDockerHost(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DOCKER_HOST;
  delete env.DOCKER_CONTEXT;
  return env;
}

/** Removes what an image does not need (≈ 40 MB) and the build host's identity. */
function trimRootfs(root: string): void {
  for (const dir of [
    'var/cache/apt/archives',
    'var/lib/apt/lists',
    'usr/share/doc',
    'usr/share/man',
    'usr/share/info',
    'usr/share/locale',
  ]) {
    const path = join(root, dir);
    if (!existsSync(path)) continue;
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path, { recursive: true });
  }
  mkdirSync(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
  writeFileSync(join(root, 'etc/resolv.conf'), '');
  writeFileSync(join(root, 'etc/hostname'), '');
}

/** `tar -C DIR -c . | docker import -c 'CMD ["/bin/bash"]' - IMAGE`, two processes joined by a pipe. */
async function importRootfs(root: string, image: string): Promise<void> {
  const tar = spawn('tar', ['-C', root, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const docker = spawn('docker', ['import', '-c', 'CMD ["/bin/bash"]', '-', image], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: withoutDockerHost(),
  });
  tar.stdout.pipe(docker.stdin);
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  docker.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = (child: ReturnType<typeof spawn>) =>
    new Promise<number | null>((done) => {
      child.once('error', (err) => {
        stderr += String(err);
        done(-1);
      });
      child.once('close', (code) => done(code));
    });
  const [tarCode, dockerCode] = await Promise.all([exit(tar), exit(docker)]);
  if (tarCode !== 0 || dockerCode !== 0) {
    throw new Error(
      `importing the root file system as ${image} failed (tar ${tarCode}, docker import ${dockerCode}):\n${stderr}`,
    );
  }
}

/** Runs `fn` holding a machine-wide lock; a lock whose owner process is gone is taken over. */
async function withLock(name: string, timeoutMs: number, fn: () => Promise<void>): Promise<void> {
  const dir = join(tmpdir(), `infra-sandbox-${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!ownerAlive(dir)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${dir}`);
      await delay(500);
    }
  }
  try {
    await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ownerAlive(lockDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
  } catch {
    // No pid yet: being written right now, or its owner died in between (then the lock is old).
    try {
      return Date.now() - statSync(lockDir).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readTail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
