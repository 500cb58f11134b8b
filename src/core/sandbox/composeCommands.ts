/**
 * The Compose tool client (STYLE habit 4): finds which Compose is installed and *builds* its commands;
 * the runner (src/core/exec) runs them. Compose v2 (`docker compose`), v1 (`docker-compose`) and
 * `podman compose` take the same arguments for everything used here.
 */
import type { CancellationTokenLike } from '../cancellation';
import { run, ToolMissingError, which, type CommandSpec } from '../exec';

export type ComposeFlavor = 'docker compose' | 'docker-compose' | 'podman compose';

export interface ComposeTool {
  flavor: ComposeFlavor;
  command: string;
  /** Arguments before Compose's own (`compose` for the plugin forms). */
  prefix: readonly string[];
}

export const DOCKER_COMPOSE_V2: ComposeTool = { flavor: 'docker compose', command: 'docker', prefix: ['compose'] };
export const DOCKER_COMPOSE_V1: ComposeTool = { flavor: 'docker-compose', command: 'docker-compose', prefix: [] };
export const PODMAN_COMPOSE: ComposeTool = { flavor: 'podman compose', command: 'podman', prefix: ['compose'] };

export const COMPOSE_INSTALL_HINT =
  'Install Compose: the Docker Compose v2 plugin (`docker compose`, package docker-compose-plugin from Docker’s apt repository), ' +
  'or Debian’s v1: `apt-get install -y docker-compose`, or Podman’s `podman compose`.';

/** `docker compose version` / `podman compose version`: exits 0 only when the plugin is there. */
export function composeVersionCommand(tool: ComposeTool): CommandSpec<string> {
  return { command: tool.command, args: [...tool.prefix, 'version'], parse: (o) => o.stdout.trim() };
}

/**
 * Which Compose to use: `docker compose` v2 when the plugin answers, else `docker-compose` v1 when it
 * is on PATH, else `podman compose`. v1 is recognised by its presence alone: starting it (Python)
 * only to print its version would cost half a second on every `up`.
 */
export async function findComposeTool(env: NodeJS.ProcessEnv, token?: CancellationTokenLike): Promise<ComposeTool> {
  const answers = async (tool: ComposeTool) => {
    if (!which(tool.command, env.PATH)) return false;
    try {
      await run(composeVersionCommand(tool), { env, token });
      return true;
    } catch {
      return false;
    }
  };
  if (await answers(DOCKER_COMPOSE_V2)) return DOCKER_COMPOSE_V2;
  if (which(DOCKER_COMPOSE_V1.command, env.PATH)) return DOCKER_COMPOSE_V1;
  if (await answers(PODMAN_COMPOSE)) return PODMAN_COMPOSE;
  throw new ToolMissingError(
    'Docker Compose (`docker compose` v2, `docker-compose` v1 or `podman compose`)',
    COMPOSE_INSTALL_HINT,
  );
}

/** The project a compose command acts on: `-p isb-<name> -f <template> -f <override>`. */
export interface ComposeProject {
  tool: ComposeTool;
  project: string;
  files: readonly string[];
}

/** `<compose> -p P -f F… <args>` */
export function composeCommand(p: ComposeProject, args: readonly string[]): CommandSpec {
  return {
    command: p.tool.command,
    args: [...p.tool.prefix, '-p', p.project, ...p.files.flatMap((f) => ['-f', f]), ...args],
  };
}

/** Creates and starts every service, detached. Health is waited for through the engine (v1 has no `--wait`). */
export const composeUp = (p: ComposeProject): CommandSpec => composeCommand(p, ['up', '-d']);
/** Stops the containers; they, their named volumes and networks stay. */
export const composeStop = (p: ComposeProject): CommandSpec => composeCommand(p, ['stop']);
/** Starts the stopped containers. */
export const composeStart = (p: ComposeProject): CommandSpec => composeCommand(p, ['start']);
/** Removes containers, networks and named volumes, and containers of services no longer in the file. */
export const composeDown = (p: ComposeProject): CommandSpec => composeCommand(p, ['down', '-v', '--remove-orphans']);
/** Validates and interpolates the files without running anything (needs no image). */
export const composeConfigCheck = (p: ComposeProject): CommandSpec => composeCommand(p, ['config', '-q']);
