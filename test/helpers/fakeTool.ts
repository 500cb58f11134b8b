/**
 * Fake executables for contract tests (SPEC §11): a folder of small Node scripts put first on PATH
 * in place of tools that cannot run here (k3d, multipass, docker). Each call appends one JSON line
 * to a shared record — the tool, its argv, the environment variables asked for, its stdin and when
 * it started — and replays the canned stdout, stderr and exit code of the first rule its argv
 * matches. The argv the product sends is the contract: tests assert it exactly.
 *
 * Rule patterns: each element is an exact argument, `*` (any one argument) or, last, `...` (any
 * rest, none included). `calls: [n, …]` limits a rule to the n-th calls matching its pattern
 * (1-based, counted across processes under a lock, so parallel calls count right). `delayMs`
 * sleeps before answering (after recording), which lets a test see parallel calls overlap or
 * cancel one midway; `holdMs` keeps the process alive after it answered (a follower).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tmp';

export interface FakeReply {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Sleep before answering (after recording the call). */
  delayMs?: number;
  /** Keep running this long after answering, like `docker logs --follow`. */
  holdMs?: number;
}

export interface FakeRule extends FakeReply {
  args: string[];
  calls?: number[];
}

export interface FakeCall {
  tool: string;
  argv: string[];
  env: Record<string, string | null>;
  stdin: string;
  startedAt: number;
}

export interface FakeToolOptions {
  /** Environment variables whose values each call records (null when unset). */
  recordEnv?: string[];
}

export class FakeBin {
  /** Put this first on PATH (or alone: the fakes need nothing else). */
  readonly dir: string;
  readonly recordFile: string;
  private readonly root: string;

  constructor() {
    this.root = tempDir('fakebin');
    this.dir = join(this.root, 'bin');
    this.recordFile = join(this.root, 'calls.jsonl');
    mkdirSync(this.dir);
    writeFileSync(this.recordFile, '');
  }

  /** Installs (or replaces) the fake `name` with these rules. */
  tool(name: string, rules: FakeRule[], options: FakeToolOptions = {}): this {
    const configFile = join(this.root, `${name}.rules.json`);
    writeFileSync(configFile, JSON.stringify({ tool: name, rules, recordEnv: options.recordEnv ?? [] }));
    const script = join(this.dir, name);
    writeFileSync(script, fakeScript(configFile, this.recordFile, join(this.root, 'lock')));
    chmodSync(script, 0o755);
    return this;
  }

  /** Every call so far, in the order they started. */
  calls(tool?: string): FakeCall[] {
    if (!existsSync(this.recordFile)) return [];
    const all = readFileSync(this.recordFile, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as FakeCall);
    return tool ? all.filter((c) => c.tool === tool) : all;
  }

  /** `[tool, ...argv]` of every call, for exact assertions. */
  argvs(tool?: string): string[][] {
    return this.calls(tool).map((c) => [c.tool, ...c.argv]);
  }

  /** Forgets the calls recorded so far (the rules' call counts start again). */
  clear(): void {
    writeFileSync(this.recordFile, '');
  }
}

/** Reads a fixture file as text. */
export function fixture(...parts: string[]): string {
  return readFileSync(join(__dirname, '..', 'fixtures', ...parts), 'utf8');
}

/**
 * The fake itself: CommonJS, no dependencies, its interpreter by absolute path so PATH may hold
 * nothing but the fakes.
 */
function fakeScript(configFile: string, recordFile: string, lockDir: string): string {
  return `#!${process.execPath}
'use strict';
const fs = require('fs');
const cfg = JSON.parse(fs.readFileSync(${JSON.stringify(configFile)}, 'utf8'));
const recordFile = ${JSON.stringify(recordFile)};
const lockDir = ${JSON.stringify(lockDir)};
const argv = process.argv.slice(2);
const startedAt = Date.now();
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch (e) { stdin = ''; }

function matches(pattern, args) {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '...' && i === pattern.length - 1) return true;
    if (i >= args.length) return false;
    if (pattern[i] !== '*' && pattern[i] !== args[i]) return false;
  }
  return pattern.length === args.length;
}
function sleep(ms) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }

// Count and record under a lock, so that parallel calls see each other.
for (let i = 0; ; i++) {
  try { fs.mkdirSync(lockDir); break; } catch (e) {
    if (e.code !== 'EEXIST' || i > 2000) throw e;
    sleep(5);
  }
}
let rule;
try {
  const previous = fs.readFileSync(recordFile, 'utf8').split('\\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((c) => c.tool === cfg.tool);
  for (const r of cfg.rules) {
    if (!matches(r.args, argv)) continue;
    const n = previous.filter((c) => matches(r.args, c.argv)).length + 1;
    if (r.calls && !r.calls.includes(n)) continue;
    rule = r;
    break;
  }
  const env = {};
  for (const k of cfg.recordEnv) env[k] = process.env[k] === undefined ? null : process.env[k];
  fs.appendFileSync(recordFile, JSON.stringify({ tool: cfg.tool, argv, env, stdin, startedAt }) + '\\n');
} finally {
  fs.rmdirSync(lockDir);
}

if (!rule) {
  process.stderr.write('fake ' + cfg.tool + ': no rule matches ' + JSON.stringify(argv) + '\\n');
  process.exit(97);
}
const reply = () => {
  if (rule.stdout) process.stdout.write(rule.stdout);
  if (rule.stderr) process.stderr.write(rule.stderr);
  process.exitCode = rule.exitCode || 0;
  if (rule.holdMs) setTimeout(() => undefined, rule.holdMs);
};
if (rule.delayMs) setTimeout(reply, rule.delayMs); else reply();
`;
}
