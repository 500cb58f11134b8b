import { homedir } from 'node:os';
import { basename } from 'node:path';
import type { WorkspaceConfig } from '../config/types';
import { extractAnsible } from './ansible/extract';
import { boundaryFromConfig, compileBoundary } from './boundary';
import { hostOfSpec } from './hostspec';
import { decide } from './decide';
import { extractDb, extractVault } from './families/db';
import { extractDocker } from './families/docker';
import { envTargets, extractGeneric } from './families/generic';
import { extractKube } from './families/kube';
import { extractSsh } from './families/ssh';
import { extractTofu } from './families/tofu';
import { createResolver, type Resolver } from './resolver';
import type {
  Boundary,
  ExtractContext,
  Extraction,
  Extractor,
  InputProblem,
  InventoryParserChoice,
  Target,
  Verdict,
} from './types';

/** Command basename → the extractor of its family; anything else gets the generic one. */
const FAMILIES: Record<string, Extractor> = {
  ansible: extractAnsible,
  'ansible-playbook': extractAnsible,
  'ansible-inventory': extractAnsible,
  'ansible-console': extractAnsible,
  ssh: extractSsh,
  scp: extractSsh,
  sftp: extractSsh,
  rsync: extractSsh,
  kubectl: extractKube,
  helm: extractKube,
  tofu: extractTofu,
  terraform: extractTofu,
  psql: extractDb,
  pg_dump: extractDb,
  pg_restore: extractDb,
  pg_dumpall: extractDb,
  vault: extractVault,
  bao: extractVault,
  docker: extractDocker,
  'docker-compose': extractDocker,
  podman: extractDocker,
};

export function familyOf(command: string): string {
  const name = basename(command);
  return FAMILIES[name] ? name : 'generic';
}

export interface GuardOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  home?: string;
  /** The validated workspace config; undefined → no boundary, nothing is production. */
  config: WorkspaceConfig | undefined;
  inventoryParser?: InventoryParserChoice;
  /** Shared across calls to reuse its cache (the companion, the editor). */
  resolver?: ReturnType<typeof createResolver>;
  environment?: 'sandbox' | 'production';
}

export interface GuardResult {
  verdict: Verdict;
  /** Inputs that could not be read (file:line); the CLI exits 2 and runs nothing. */
  problems: InputProblem[];
}

const resolvers = new Map<string, Resolver>();

/** One resolver (and its answer cache) per set of DNS servers, shared by every caller in this process. */
export function sharedResolver(dnsServers: readonly string[]): Resolver {
  const key = dnsServers.join(',');
  let r = resolvers.get(key);
  if (!r) resolvers.set(key, (r = createResolver({ dnsServers: [...dnsServers] })));
  return r;
}

function contextOf(options: GuardOptions): ExtractContext {
  return {
    cwd: options.cwd,
    env: options.env,
    home: options.home ?? options.env.HOME ?? homedir(),
    inventoryParser: options.inventoryParser ?? 'auto',
  };
}

/** `guard exec` / the shims: the targets of one command line, decided. */
export async function guardCommand(argv: readonly string[], options: GuardOptions): Promise<GuardResult> {
  const boundary = boundaryFromConfig(options.config ?? { version: 1 });
  const ctx = contextOf(options);
  const extractor = FAMILIES[basename(argv[0] ?? '')] ?? extractGeneric;
  const extraction = await extractor(argv, ctx);
  if (extractor === extractGeneric) extraction.targets.push(...productionNamesIn(argv, boundary, extraction.targets));
  const fromEnv = envTargets(ctx.env, boundary.production.env);
  return finish([extraction, { targets: fromEnv, problems: [], notes: [] }], boundary, options, [...argv]);
}

export interface CheckSpec {
  inventories?: string[];
  limit?: string;
  kubeconfig?: string;
  context?: string;
  hosts?: string[];
  tfDir?: string;
}

/** `guard check`: the verdict for explicitly named targets. */
export async function guardTargets(spec: CheckSpec, options: GuardOptions): Promise<GuardResult> {
  const boundary = boundaryFromConfig(options.config ?? { version: 1 });
  const ctx = contextOf(options);
  const parts: Extraction[] = [];
  if (spec.inventories?.length) {
    const argv = ['ansible-inventory', ...spec.inventories.flatMap((i) => ['-i', i])];
    if (spec.limit) argv.push('--limit', spec.limit);
    parts.push(await extractAnsible([...argv, '--list'], ctx));
  }
  if (spec.kubeconfig || spec.context) {
    const argv = ['kubectl'];
    if (spec.kubeconfig) argv.push('--kubeconfig', spec.kubeconfig);
    if (spec.context) argv.push('--context', spec.context);
    parts.push(await extractKube(argv, ctx));
  }
  if (spec.tfDir) parts.push(await extractTofu(['tofu', `-chdir=${spec.tfDir}`, 'plan'], ctx));
  if (spec.hosts?.length) {
    const targets: Target[] = spec.hosts.map((h) => ({
      kind: 'host',
      name: h,
      host: h,
      source: { kind: 'argv', detail: '--host' },
      chain: [h],
    }));
    parts.push({ targets, problems: [], notes: [] });
  }
  return finish(parts, boundary, options, undefined);
}

async function finish(
  parts: Extraction[],
  boundary: Boundary,
  options: GuardOptions,
  command: string[] | undefined,
): Promise<GuardResult> {
  const targets = dedupe(parts.flatMap((p) => p.targets));
  const problems = parts.flatMap((p) => p.problems);
  const notes = parts.flatMap((p) => p.notes);
  const verdict = await decide(targets, boundary, options.resolver ?? sharedResolver(boundary.dnsServers), {
    command,
    environment: options.environment ?? 'sandbox',
    baseDir: options.cwd,
  });
  verdict.notes = [...notes, ...verdict.notes];
  return { verdict, problems };
}

/** One target per place: `PGHOST` is both a psql input and, often, a configured production env var. */
function dedupe(targets: Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const s = t.source;
    const key = [t.kind, t.host, t.kubeContext, t.stateBackend, s.kind, s.argIndex, s.file, s.line, s.envVar].join(
      '\u0000',
    );
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const HOST_NAME =
  /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * For commands without a family: bare arguments that name a production host by a `production.hosts`
 * pattern (`nc db.corp.example 22`, `curl db.corp.example/x`, `mysql -h db.corp.example`). Only
 * pattern matches count — any other word may be a file or a word, and is not sent to DNS.
 */
function productionNamesIn(argv: readonly string[], boundary: Boundary, found: Target[]): Target[] {
  if (boundary.production.hosts.length === 0) return [];
  const matcher = compileBoundary(boundary);
  const taken = new Set(found.map((t) => t.source.argIndex));
  const out: Target[] = [];
  argv.forEach((arg, i) => {
    if (i === 0 || taken.has(i)) return;
    // `-hdb.corp.example`, `--host=db.corp.example`, `db.corp.example/path`, `user@db.corp.example:22`
    const value = arg.replace(/^--?[a-z][a-z0-9-]*=/i, '').replace(/^-[a-z](?=[a-z0-9])/i, '');
    for (const candidate of new Set([value, arg])) {
      const host = hostOfSpec(candidate.replace(/\/.*$/, ''));
      if (host && HOST_NAME.test(host) && matcher.matchHostName(host)) {
        out.push({
          kind: 'host',
          name: host,
          host,
          source: { kind: 'argv', argIndex: i },
          chain: [`${arg} (argv[${i}])`],
        });
        return;
      }
    }
  });
  return out;
}
