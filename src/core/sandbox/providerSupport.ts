/**
 * What the k3d and multipass providers share: the sandbox's entry and name checks, runner options
 * from a SandboxContext, YAML templates read with file:line problems, files written atomically with
 * their mode, and the lines of several processes streamed as one (logs). Nothing here is specific to
 * either tool; compose may use it too.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { tokenFromSignal } from '../cancellation';
import type { SandboxConfig } from '../config/types';
import { CancelledError, InfraSandboxError, run, type CommandSpec, type RunOptions } from '../exec';
import { ExitCode } from '../exitCodes';
import type { Verdict } from '../guard/types';
import type { Logger } from '../log';
import type { ProviderKind, SandboxContext } from './types';

/** The sandbox name is a DNS label (the config schema says so too); tools add their own limits. */
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function assertSandboxName(name: string, maxLength: number, why: string): void {
  if (!DNS_LABEL.test(name) || name.length > 63) {
    throw new InfraSandboxError(
      `invalid sandbox name ${JSON.stringify(name)}: a sandbox name is a DNS label — lower-case letters, digits and '-', starting and ending with a letter or digit`,
      ExitCode.usage,
    );
  }
  if (name.length > maxLength) {
    throw new InfraSandboxError(
      `invalid sandbox name ${JSON.stringify(name)}: at most ${maxLength} characters for this provider (${why})`,
      ExitCode.usage,
    );
  }
}

/** The sandbox's entry in infra-sandbox.yaml; unknown or of another provider → exit 2. */
export function sandboxEntry(ctx: SandboxContext, kind: ProviderKind): SandboxConfig {
  const entry = ctx.config.sandboxes?.[ctx.name];
  if (!entry) {
    const known = Object.keys(ctx.config.sandboxes ?? {});
    throw new InfraSandboxError(
      `no sandbox named ${JSON.stringify(ctx.name)} in ${ctx.configFile}${known.length ? ` (declared: ${known.join(', ')})` : ''}`,
      ExitCode.usage,
    );
  }
  if (entry.provider !== kind) {
    throw new InfraSandboxError(
      `sandbox ${JSON.stringify(ctx.name)} uses the ${entry.provider} provider, not ${kind}`,
      ExitCode.usage,
    );
  }
  return entry;
}

/** Runs a spec for a sandbox operation: its environment, cancellation, and output lines to ctx.log. */
export function runFor<T>(
  ctx: SandboxContext,
  spec: CommandSpec<T>,
  extra: Partial<RunOptions> & { quiet?: boolean; logger?: Logger } = {},
): Promise<T> {
  const { quiet, logger, ...options } = extra;
  const forward = quiet ? undefined : ctx.log;
  return run(spec, {
    env: ctx.env,
    cwd: ctx.root,
    token: ctx.signal ? tokenFromSignal(ctx.signal) : undefined,
    log: logger,
    onStdoutLine: forward ? (line) => forward(stripAnsi(line), 'stdout') : undefined,
    onStderrLine: forward ? (line) => forward(stripAnsi(line), 'stderr') : undefined,
    ...options,
  });
}

/** Throws CancelledError when the operation was cancelled (between steps). */
export function throwIfCancelled(ctx: SandboxContext, what: string): void {
  if (ctx.signal?.aborted) throw new CancelledError(what);
}

// ---------------------------------------------------------------------------------------------
// The guard's refusals

/** A refusal by the guard (exit 3), carrying the verdict for --json. */
export class GuardRefusal extends InfraSandboxError {
  constructor(
    message: string,
    readonly verdict: Verdict,
  ) {
    super(message, ExitCode.blocked);
  }
}

/**
 * `  name → hop → … → address ∈ network production`, one line per production target; `label`
 * names the target when its own name says less (a node for its address).
 */
export function productionChains(verdict: Verdict, label: (name: string) => string = (n) => n): string {
  return verdict.targets
    .filter((t) => t.production)
    .map((t) => {
      const head = label(t.name);
      const chain = t.chain.filter((hop) => hop !== t.name && hop !== head);
      // `context k3d-isb-lab (file:9) → …` already names the target.
      const named = head === t.name && chain[0]?.includes(t.name);
      return `  ${(named ? chain : [head, ...chain]).join(' → ')}`;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Output of tools

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** k3d colours its log lines even into a pipe (logrus ForceColors); people read them without. */
export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/** The last `n` non-empty lines of a tool's stderr, uncoloured and right-trimmed. */
export function lastLines(text: string, n: number): string[] {
  return stripAnsi(text)
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l.length > 0)
    .slice(-n);
}

// ---------------------------------------------------------------------------------------------
// Templates and config files: YAML with file:line problems

export interface YamlFile {
  file: string;
  text: string;
  doc: Document.Parsed;
  /** `file:line:col` of a node (or of the file's start). */
  place(node: Node | null | undefined): string;
  /** The node at a path (keys and indexes), or undefined. */
  nodeAt(path: readonly (string | number)[]): Node | undefined;
  /** The key node of the pair at a path (to point at an unknown key). */
  keyAt(path: readonly (string | number)[]): Node | undefined;
}

/** Bad input in a template or config file: `file:line:col: message`, exit 2. */
export function templateError(place: string, message: string): InfraSandboxError {
  return new InfraSandboxError(`${place}: error ${message}`, ExitCode.usage);
}

/** Reads and parses a YAML file; a missing file or a syntax error is bad input with file:line. */
export async function readYamlFile(file: string, what: string): Promise<YamlFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw templateError(`${file}:1:1`, `${what}: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
  return parseYamlText(file, text, what);
}

export function parseYamlText(file: string, text: string, what: string): YamlFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const placeAt = (offset: number) => {
    const p = lines.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw templateError(placeAt(e.pos[0]), `${what}: YAML syntax: ${e.message.split('\n')[0]}`);
  }
  const place = (node: Node | null | undefined) => placeAt(node?.range?.[0] ?? 0);
  const nodeAt = (path: readonly (string | number)[]) => {
    const n = doc.getIn(path, true);
    return n && typeof n === 'object' ? (n as Node) : undefined;
  };
  const keyAt = (path: readonly (string | number)[]) => {
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
    if (!isMap(parent)) return undefined;
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
    return (pair?.key as Node | undefined) ?? undefined;
  };
  return { file, text, doc, place, nodeAt, keyAt };
}

/** `file:line:col` of a key in the workspace config (for problems found after validation), or `file`. */
export async function configPlace(configFile: string, path: readonly (string | number)[]): Promise<string> {
  try {
    const y = parseYamlText(configFile, await readFile(configFile, 'utf8'), 'config');
    const node = y.nodeAt(path) ?? y.keyAt(path);
    return node ? y.place(node) : configFile;
  } catch {
    return configFile;
  }
}

// ---------------------------------------------------------------------------------------------
// Files the product generates

/**
 * Writes a file atomically with the given mode (a temporary sibling created with that mode, then
 * renamed), creating its folder (0700) first. Readers never see half a file.
 */
export function writeFileAtomic(file: string, content: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, content, { mode, flag: 'wx' });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}

// ---------------------------------------------------------------------------------------------
// Streaming the lines of one or more processes (logs)

/**
 * The output lines of several commands as one stream, in the order they arrive; each line is
 * prefixed with its label when there is more than one command. Stopping the iteration (break)
 * kills the processes; a command that fails ends the stream with its error.
 */
export async function* streamLines(
  ctx: SandboxContext,
  sources: { label: string; spec: CommandSpec }[],
): AsyncGenerator<string> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  let pending = sources.length;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  const push = (line: string) => {
    queue.push(line);
    wake?.();
  };
  for (const { label, spec } of sources) {
    const prefix = sources.length > 1 ? `[${label}] ` : '';
    run(spec, {
      env: ctx.env,
      cwd: ctx.root,
      token: tokenFromSignal(stop.signal),
      onStdoutLine: (l) => push(prefix + l),
      onStderrLine: (l) => push(prefix + l),
    })
      .catch((err: unknown) => {
        if (!(err instanceof CancelledError) || !stop.signal.aborted || ctx.signal?.aborted) failure ??= err;
      })
      .finally(() => {
        pending--;
        wake?.();
      });
  }
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift() as string;
      if (failure) throw failure;
      if (pending === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

/** The nodes `logs` reads: all of them, or the one named; an unknown name is bad input naming the others. */
export function chooseNodes<T extends { name: string }>(
  ctx: SandboxContext,
  nodes: T[],
  member: string | undefined,
): T[] {
  const chosen = member ? nodes.filter((m) => m.name === member) : nodes;
  if (chosen.length === 0) {
    throw new InfraSandboxError(
      `sandbox "${ctx.name}" has no node ${JSON.stringify(member)} (nodes: ${nodes.map((m) => m.name).join(', ')})`,
      ExitCode.usage,
    );
  }
  return chosen;
}
