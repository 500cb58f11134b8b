import type { ConfigProblem } from './types';

/** `file:line:col: error key: message` — the shape editors and CI logs turn into links. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column}: error${p.key ? ` ${p.key}:` : ''} ${p.message}`;
}
