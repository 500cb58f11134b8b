/**
 * Small helpers the command families share: places for people, `~` expansion, reading a file into
 * text or an InputProblem, and the environment a helper process (`ssh -G`) runs with.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathWithout, SHIM_DIR_ENV } from '../shims';
import type { ExtractContext, InputProblem, TargetSource } from '../types';

/** A path as people read it: `~/.kube/config`, `infra/main.tf` (inside cwd), else absolute. */
export function displayPath(file: string, ctx: Pick<ExtractContext, 'cwd' | 'home'>): string {
  const under = (base: string) => (base && file.startsWith(base.endsWith('/') ? base : `${base}/`) ? base : undefined);
  const cwd = under(ctx.cwd);
  if (cwd) return file.slice(cwd.length + (cwd.endsWith('/') ? 0 : 1));
  const home = under(ctx.home);
  if (home) return `~/${file.slice(home.length + (home.endsWith('/') ? 0 : 1))}`;
  return file;
}

/** `file:line` for a chain hop. */
export function displayPlace(
  file: string,
  line: number | undefined,
  ctx: Pick<ExtractContext, 'cwd' | 'home'>,
): string {
  const path = displayPath(file, ctx);
  return line ? `${path}:${line}` : path;
}

/** `~/x` → home/x; relative → against `base`. */
export function expandPath(path: string, base: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return resolve(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(base, path);
}

export function argvSource(argIndex: number, detail?: string): TargetSource {
  return detail ? { kind: 'argv', argIndex, detail } : { kind: 'argv', argIndex };
}

export function envSource(envVar: string): TargetSource {
  return { kind: 'env', envVar };
}

export function fileSource(file: string, line: number, column?: number): TargetSource {
  return column ? { kind: 'file', file, line, column } : { kind: 'file', file, line };
}

/** Reads a file as UTF-8; an unreadable file is a problem at 1:1, never an exception. */
export async function readText(file: string): Promise<{ text: string } | { problem: InputProblem }> {
  try {
    return { text: await readFile(file, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder' : (err as Error).message;
    return { problem: { file, line: 1, column: 1, message: `cannot read: ${reason}` } };
  }
}

/**
 * The environment for a helper process the guard itself runs (`ssh -G`): the user's, with the
 * guard's own shim folder taken off PATH — otherwise the helper would be guarded, recursively.
 */
export function helperEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const shimDir = env[SHIM_DIR_ENV];
  return shimDir ? { ...env, PATH: pathWithout(env.PATH, [shimDir]) } : env;
}

/** One word of pflag (cobra) shorthands, as kubectl, helm, docker and podman read it. */
export interface Shorthands {
  /** The letters before the one that takes a value (or all of them): flags without a value. */
  flags: string[];
  /** The first letter that takes a value; it ends the word. */
  valueFlag?: string;
  /** Its value when glued on (`-Hssh://h`, `-H=tcp://h`); undefined → the value is the next word. */
  glued?: string;
}

/**
 * `-it`, `-nkube-system`, `-Hssh://deploy@h`, `-H=tcp://h:2376`, `-DH tcp://h`: pflag reads a single-dash
 * word as a cluster of one-letter flags, and the first that takes a value takes the rest of the word
 * (after an optional `=`) or, when nothing is left, the next word.
 */
export function shorthands(word: string, takesValue: (letter: string) => boolean): Shorthands {
  const out: Shorthands = { flags: [] };
  for (let j = 1; j < word.length; j++) {
    const letter = word[j];
    if (!takesValue(letter)) {
      out.flags.push(letter);
      continue;
    }
    out.valueFlag = letter;
    const rest = word.slice(j + 1).replace(/^=/, '');
    if (rest) out.glued = rest;
    break;
  }
  return out;
}

/** Splits a command string the way rsync splits `-e` and ssh a ProxyCommand: whitespace, with '…' and "…" quoting. */
export function splitWords(command: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < command.length) cur += command[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < command.length) {
      cur += command[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** The basename of a command word (`/usr/bin/ssh` → `ssh`). */
export function commandName(word: string | undefined): string {
  return (word ?? '').replace(/^.*\//, '');
}

/** A URL or conninfo with its password hidden, for chains and notes: `postgres://u:***@h/db`, `password=***`. */
export function redact(text: string): string {
  return text
    .replace(/(:\/\/[^/@\s:]*):[^/@\s]*@/g, '$1:***@')
    .replace(/\b(password|passwd|pwd|token|secret)=('[^']*'|[^\s&]*)/gi, '$1=***');
}
