/**
 * What a compose sandbox's containers mean: its members and state (SandboxStatus), and whether an
 * `up` is done, still waiting, or has failed. Pure functions of the engine's answers.
 */
import type { ContainerDetails } from './docker';
import type { SandboxMember, SandboxStatus } from './types';

/** Exit codes a container gets from `compose stop` (SIGTERM, SIGINT, SIGKILL after the grace period) or a clean exit. */
const STOP_EXIT_CODES = new Set([0, 130, 137, 143]);

/** `node` when the service has one container, `node-2` when it is scaled. */
export function memberName(c: ContainerDetails, all: readonly ContainerDetails[]): string {
  const service = c.service ?? c.name;
  const siblings = all.filter((o) => (o.service ?? o.name) === service).length;
  return siblings > 1 && c.containerNumber ? `${service}-${c.containerNumber}` : service;
}

export function toMember(c: ContainerDetails, all: readonly ContainerDetails[]): SandboxMember {
  return {
    name: memberName(c, all),
    role: c.service ?? c.name,
    state: memberState(c),
    ...(c.health ? { health: c.health } : {}),
    image: c.image,
    addresses: c.networks.flatMap((n) => [n.ipv4, n.ipv6].filter((a): a is string => Boolean(a))),
    ports: c.ports,
    id: c.id,
  };
}

function memberState(c: ContainerDetails): SandboxMember['state'] {
  switch (c.state) {
    case 'running':
      return 'running';
    case 'restarting':
      return 'starting';
    case 'created':
    case 'paused':
      return 'stopped';
    case 'exited':
      return STOP_EXIT_CODES.has(c.exitCode) ? 'stopped' : 'exited';
    case 'dead':
    case 'removing':
      return 'exited';
    default:
      return 'unknown';
  }
}

/** A one-shot service that has done its job: exited 0, no healthcheck, not to be restarted. */
function completed(c: ContainerDetails): boolean {
  return c.state === 'exited' && c.exitCode === 0 && !c.health && c.restartPolicy === 'no';
}

/**
 * The sandbox state from its containers and the services its template starts:
 * absent (no container) · stopped (none runs) · creating (running, some health still starting) ·
 * running (all run and are healthy where they have a check; one-shot jobs done) · degraded (otherwise).
 */
export function composeStatus(
  name: string,
  containers: readonly ContainerDetails[],
  expectedServices: readonly string[] | undefined,
  artifacts: SandboxStatus['artifacts'],
): SandboxStatus {
  const members = containers.map((c) => toMember(c, containers));
  const base = { name, provider: 'compose' as const, members, artifacts };
  if (containers.length === 0) return { ...base, state: 'absent' };

  const present = new Set(containers.map((c) => c.service ?? c.name));
  const missing = (expectedServices ?? []).filter((s) => !present.has(s));
  for (const service of missing)
    members.push({ name: service, role: service, state: 'missing', addresses: [], ports: [] });

  const running = containers.filter((c) => c.state === 'running');
  if (running.length === 0) return { ...base, state: 'stopped' };

  const problems: string[] = missing.map((s) => `${s}: missing`);
  const waiting: string[] = [];
  for (const c of containers) {
    const m = memberName(c, containers);
    if (c.state === 'running') {
      if (c.health === 'unhealthy') problems.push(`${m}: unhealthy`);
      else if (c.health === 'starting') waiting.push(m);
    } else if (!completed(c)) {
      problems.push(`${m}: ${describe(c)}`);
    }
  }
  if (problems.length) return { ...base, state: 'degraded', detail: problems.join('; ') };
  if (waiting.length) return { ...base, state: 'creating', detail: `health check pending: ${waiting.join(', ')}` };
  return { ...base, state: 'running' };
}

export type Readiness =
  | { kind: 'ready' }
  | { kind: 'waiting'; waitingFor: string[] }
  | { kind: 'failed'; container: ContainerDetails; member: string; reason: string };

/** Whether an `up`/`start` is done: every expected service has containers, each running (healthy if checked) or a finished one-shot. */
export function readiness(containers: readonly ContainerDetails[], expectedServices: readonly string[]): Readiness {
  const waitingFor: string[] = [];
  const present = new Set(containers.map((c) => c.service ?? c.name));
  for (const s of expectedServices) if (!present.has(s)) waitingFor.push(`${s} (no container yet)`);
  for (const c of containers) {
    const member = memberName(c, containers);
    if (c.state === 'running') {
      if (c.health === 'unhealthy') {
        return {
          kind: 'failed',
          container: c,
          member,
          reason: `is unhealthy${c.lastHealthOutput ? ` (last check: ${oneLine(c.lastHealthOutput)})` : ''}`,
        };
      }
      if (c.health === 'starting') waitingFor.push(`${member} (health: starting)`);
    } else if (c.state === 'exited' || c.state === 'dead') {
      if (!completed(c)) return { kind: 'failed', container: c, member, reason: describe(c) };
    } else if (c.state === 'restarting') {
      return { kind: 'failed', container: c, member, reason: `keeps restarting (last exit code ${c.exitCode})` };
    } else {
      waitingFor.push(`${member} (${c.state})`);
    }
  }
  return waitingFor.length ? { kind: 'waiting', waitingFor } : { kind: 'ready' };
}

/** `running (health: starting)`, `healthy`, `exited (code 1)`: how a member's progress is reported. */
export function describe(c: ContainerDetails): string {
  if (c.state === 'running')
    return c.health ? (c.health === 'starting' ? 'running (health: starting)' : c.health) : 'running';
  if (c.state === 'exited' || c.state === 'dead') return `${c.state} (code ${c.exitCode})`;
  return c.state;
}

function oneLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
