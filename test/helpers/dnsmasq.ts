/**
 * A real DNS server for guard tests: Debian's dnsmasq on 127.0.0.1 and a free port, answering only
 * from the records given (no /etc/hosts, no /etc/resolv.conf, no upstream on the network).
 *
 * Failure answers come from dnsmasq itself:
 * - NXDOMAIN: names under the local-only domains (`--local=/test/` …) that have no record.
 * - SERVFAIL: the front server validates DNSSEC (root trust anchor) and forwards everything that is
 *   not local to a second dnsmasq on loopback that answers unsigned; the proof of insecurity for
 *   `*.servfail.invalid` cannot be made, so the answer is bogus and the client gets SERVFAIL.
 * - REFUSED: other names reach the upstream dnsmasq, which has no servers and refuses them.
 * - Timeout: `silentDnsServer()`, a UDP socket on loopback that never answers.
 *
 * Production-looking addresses here are data only: nothing in the tests connects to them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './tmp';

export const DNSMASQ = '/usr/sbin/dnsmasq';

export interface DnsRecords {
  /** `--host-record=name[,name…],ip[,ipv6]` */
  hostRecords?: string[];
  /** `--cname=alias,target` */
  cnames?: string[];
  /** `--address=/name/ip` (the name and its subdomains) */
  addresses?: string[];
  /** Domains answered only from the records (`--local=/d/`): anything else under them is NXDOMAIN. */
  localDomains?: string[];
}

/** The names the whole guard suite shares, and what they answer. */
export const NAMES = {
  db: 'db.corp.example', // A 192.168.1.10 (production network, production host glob)
  pi2: 'pi2.lan', // A 192.168.1.202 (production network)
  www: 'www.corp.example', // CNAME db.corp.example
  alias: 'alias.sandbox.test', // CNAME mid.sandbox.test CNAME api.sandbox.test A 192.168.1.30 (production)
  split: 'split.example.test', // A 127.0.0.5 (sandbox) and A 192.168.1.66 (production)
  v6only: 'v6only.example.test', // AAAA 2001:db8:1::10 only (production IPv6 network)
  legacy: 'legacy.example.test', // CNAME old.corp.example A 127.0.0.30: sandbox address, production name
  app: 'app.sandbox.test', // A 127.0.0.20 (sandbox)
  node1: 'node1.sandbox.test', // A 192.168.64.11 (sandbox network)
  dual: 'dual.sandbox.test', // A 127.0.0.21 and AAAA fd00:64::21 (both sandbox)
  missing: 'missing.example.test', // NXDOMAIN
  servfail: 'broken.servfail.invalid', // SERVFAIL
  refused: 'anything.refused.org', // REFUSED
} as const;

/** The shared record set, matching the boundary in `GUARD_CONFIG`. */
export const GUARD_RECORDS: DnsRecords = {
  hostRecords: [
    'db.corp.example,192.168.1.10',
    'pi2.lan,192.168.1.202',
    'api.sandbox.test,192.168.1.30',
    'split.example.test,127.0.0.5',
    'split.example.test,192.168.1.66',
    'v6only.example.test,2001:db8:1::10',
    'old.corp.example,127.0.0.30',
    'app.sandbox.test,127.0.0.20',
    'node1.sandbox.test,192.168.64.11',
    'dual.sandbox.test,127.0.0.21,fd00:64::21',
  ],
  cnames: [
    'www.corp.example,db.corp.example',
    'mid.sandbox.test,api.sandbox.test',
    'alias.sandbox.test,mid.sandbox.test',
    'legacy.example.test,old.corp.example',
  ],
  localDomains: ['example', 'test', 'lan'],
};

/** The boundary the shared records are meant for (a WorkspaceConfig fragment). */
export const GUARD_CONFIG = {
  production: {
    networks: ['192.168.1.0/24', '2001:db8:1::/64'],
    hosts: ['*.corp.example'],
    kubeContexts: ['corp-prod'],
    stateBackends: ['gcs://corp-tf/prod'],
  },
  sandbox: { networks: ['127.0.0.0/8', '192.168.64.0/24', 'fd00:64::/64'] },
};

export interface Dnsmasq {
  port: number;
  /** `127.0.0.1:PORT`, for guard.dnsServers. */
  server: string;
  /** dnsmasq's --log-queries file. */
  logFile: string;
  /** How many queries for `name` (any type) dnsmasq has logged so far. */
  queryCount(name: string): number;
  stop(): Promise<void>;
}

// No dnsmasq outlives the test process: killed on exit, and on a signal before the signal is passed on.
const running = new Set<ChildProcess>();
const killAll = () => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
};
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

const ROOT_TRUST_ANCHOR = '.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D';

/** Starts dnsmasq with `records` (default: the shared set) and waits until it answers. */
export async function startDnsmasq(records: DnsRecords = GUARD_RECORDS): Promise<Dnsmasq> {
  const dir = tempDir('dnsmasq');
  // The upstream: refuses everything except `.invalid`, which it answers unsigned (→ SERVFAIL in front).
  const upstream = await launch(dir, 'upstream', ['--local=/invalid/']);
  const logFile = join(dir, 'queries.log');
  const args = [
    '--dnssec',
    `--trust-anchor=${ROOT_TRUST_ANCHOR}`,
    `--server=127.0.0.1#${upstream.port}`,
    '--log-queries',
    `--log-facility=${logFile}`,
    ...(records.hostRecords ?? []).map((r) => `--host-record=${r}`),
    ...(records.cnames ?? []).map((r) => `--cname=${r}`),
    ...(records.addresses ?? []).map((r) => `--address=${r}`),
    ...(records.localDomains ?? []).map((d) => `--local=/${d}/`),
    '--host-record=ready.isb-probe.test,127.0.0.99',
  ];
  let front: Launched;
  try {
    front = await launch(dir, 'front', args);
  } catch (err) {
    await upstream.stop();
    throw err;
  }
  await waitUntilAnswering(front.port, 'ready.isb-probe.test');
  return {
    port: front.port,
    server: `127.0.0.1:${front.port}`,
    logFile,
    queryCount(name: string) {
      let text = '';
      try {
        text = readFileSync(logFile, 'utf8');
      } catch {
        return 0;
      }
      const needle = ` ${name.toLowerCase()} from `;
      return text.split('\n').filter((l) => /\bquery\[/.test(l) && l.includes(needle)).length;
    },
    async stop() {
      await front.stop();
      await upstream.stop();
    },
  };
}

/** A UDP "DNS server" on loopback that reads every query and never answers: the timeout case. */
export async function silentDnsServer(): Promise<{ server: string; received(): number; close(): Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  let count = 0;
  socket.on('message', () => count++);
  await new Promise<void>((done, fail) => {
    socket.once('error', fail);
    socket.bind(0, '127.0.0.1', () => done());
  });
  return {
    server: `127.0.0.1:${socket.address().port}`,
    received: () => count,
    close: () => new Promise<void>((done) => socket.close(() => done())),
  };
}

/** A loopback port that was free for both UDP and TCP a moment ago. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((done, fail) => {
      udp.once('error', fail);
      udp.bind(0, '127.0.0.1', () => done(udp.address().port));
    });
    await new Promise<void>((done) => udp.close(() => done()));
    const tcpFree = await new Promise<boolean>((done) => {
      const server = createServer();
      server.once('error', () => done(false));
      server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
    });
    if (tcpFree) return port;
  }
  throw new Error('no free loopback port for dnsmasq after 20 attempts');
}

// ---------------------------------------------------------------------------------------------

interface Launched {
  port: number;
  stop(): Promise<void>;
}

/** Runs one dnsmasq in the foreground on a free port; retries when the port was taken meanwhile. */
async function launch(dir: string, name: string, extra: string[]): Promise<Launched> {
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      DNSMASQ,
      [
        '--no-daemon',
        '--no-resolv',
        '--no-hosts',
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        `--port=${port}`,
        '--conf-file=/dev/null',
        `--pid-file=${join(dir, `${name}.pid`)}`,
        ...extra,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    running.add(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.once('error', (err) => (stderr += String(err)));
    // dnsmasq reports bind and option errors by exiting at once; give it a moment to do so.
    const early = await Promise.race([exited, delay(150).then(() => 'running' as const)]);
    if (early === 'running') {
      return {
        port,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            await exited;
          }
          running.delete(child);
        },
      };
    }
    running.delete(child);
    lastError = stderr.trim();
    if (!/address already in use/i.test(lastError)) break;
  }
  throw new Error(`dnsmasq (${name}) did not start: ${lastError || 'exited'}`);
}

async function waitUntilAnswering(port: number, name: string): Promise<void> {
  const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await resolver.resolve4(name);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`dnsmasq on port ${port} does not answer: ${String(err)}`);
      await delay(50);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
