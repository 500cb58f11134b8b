/**
 * The production guard's shared vocabulary (SPEC §2, §4 `guard`). Extractors (one per command
 * family) turn a command line into Targets; the decider resolves each target's host to addresses
 * and matches them, and the names, against the Boundary; the result is a Verdict.
 */

/** Where a target was found, shown to the user so they can go and fix it. */
export interface TargetSource {
  kind: 'argv' | 'file' | 'env' | 'config' | 'default';
  /** argv index (0 = the command itself) for kind 'argv'. */
  argIndex?: number;
  /** Absolute path for kind 'file'. */
  file?: string;
  /** 1-based line and column in `file`. */
  line?: number;
  column?: number;
  /** Variable name for kind 'env' (e.g. `KUBECONFIG`, `PGHOST`). */
  envVar?: string;
  /** Free text for 'config' / 'default', e.g. "ssh -G (~/.ssh/config)" or "current context". */
  detail?: string;
}

export type TargetKind =
  | 'host' // a machine reached over the network (ansible host, ssh destination, psql -h, …)
  | 'url' // an endpoint given as a URL (vault address, provider endpoint, kube API server)
  | 'kube-context' // a kube context: matched by name against production.kubeContexts, and its server resolved
  | 'state-backend' // a tofu/terraform state backend: matched against production.stateBackends
  | 'docker-engine' // the Docker engine a command (or a container connection) talks to
  | 'local'; // reaches nothing on the network (ansible_connection=local, unix socket) — reported, never blocks

export interface Target {
  kind: TargetKind;
  /** What the user named: inventory host `pi2`, ssh alias `prod`, context `corp-prod`, `$PGHOST`. */
  name: string;
  /**
   * The host to resolve and match: a DNS name or an address literal in any spelling (the decider
   * normalises it). No user@, no port, no scheme. Absent when there is nothing to resolve
   * (a state backend, a local connection, a unix socket).
   */
  host?: string;
  /** Names matched against the boundary as names (not resolved). */
  kubeContext?: string;
  stateBackend?: string;
  source: TargetSource;
  /**
   * Hops from `name` to `host`, each a short human phrase with its own source, e.g.
   * ["pi2", "ansible_host pi2.lan (host_vars/pi2.yml:3)"]. The decider appends the DNS hops and
   * the matching rule.
   */
  chain: string[];
}

/** A file the extractor could not read or parse — reported with file:line; the CLI exits 2. */
export interface InputProblem {
  file: string;
  line: number;
  column?: number;
  message: string;
}

export interface Extraction {
  targets: Target[];
  problems: InputProblem[];
  /** Short remarks for the verdict's explanation (e.g. "--limit web kept 2 of 5 hosts"). */
  notes: string[];
}

export type InventoryParserChoice = 'builtin' | 'ansible' | 'auto';

/** Everything an extractor may look at besides argv. Extractors never touch the network. */
export interface ExtractContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The user's home directory (for `~` and ~/.ssh/config, ~/.kube/config). */
  home: string;
  inventoryParser: InventoryParserChoice;
  /** Unsaved editor text by absolute path, read instead of the file on disk (editor diagnostics). */
  overrides?: ReadonlyMap<string, string>;
}

/** argv[0] is the command as typed (basename decides the family); argv[1..] its arguments. */
export type Extractor = (argv: readonly string[], ctx: ExtractContext) => Promise<Extraction>;

// ---------------------------------------------------------------------------------------------
// Deciding

export type UnresolvedPolicy = 'block' | 'warn' | 'allow';

/** The production boundary of SPEC §3, with networks already parsed. */
export interface Boundary {
  production: {
    networks: string[]; // CIDRs as written in the config (IPv4 and IPv6)
    hosts: string[]; // glob patterns: `*.corp.example`, `db01`, `pi?.lan`
    kubeContexts: string[]; // exact names or globs
    stateBackends: string[]; // prefixes: `gcs://corp-tf/prod`, `s3://corp/prod/`
    env: string[]; // variable names whose values are targets
  };
  sandbox: { networks: string[] };
  onUnresolved: UnresolvedPolicy;
  /** Explicit DNS servers (`host` or `host:port`); empty → the OS resolver (dns.lookup). */
  dnsServers: string[];
}

export interface ResolvedTarget {
  kind: TargetKind;
  name: string;
  source: string; // formatted: "argv[2]", "host_vars/pi2.yml:3", "$PGHOST"
  chain: string[]; // name → … → address ∈ rule
  addresses: string[]; // normalised (IPv4 dotted quad, IPv6 compressed lower-case, unmapped)
  production: boolean;
  /** The rule that decided: "192.168.1.0/24 production", "host *.corp.example production",
   *  "127.0.0.0/8 sandbox", "unresolved (onUnresolved: block)", or null when nothing matched. */
  rule: string | null;
  /** Why resolution failed, when it did. */
  unresolved?: 'nxdomain' | 'servfail' | 'timeout' | 'refused' | 'error';
}

export interface Verdict {
  verdict: 'allow' | 'block';
  environment: 'sandbox' | 'production';
  command?: string[];
  targets: ResolvedTarget[];
  reason: string;
  notes: string[];
}
