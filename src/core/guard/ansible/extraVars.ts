/**
 * `-e/--extra-vars` as Ansible's load_extra_vars reads them: `k=v k2="v 2"`, inline YAML/JSON
 * `{...}` / `[...]`, `@file.yml`. Extra vars have the highest precedence and apply to every host.
 */
import { readFileSync } from 'node:fs';
import type { InputProblem } from '../types';
import type { ArgValue } from './argv';
import { expandPath, type PathContext } from './config';
import type { Place } from './model';
import { isPlainObject, parseYaml, readVarsText, valueOf } from './yamlFile';

export interface ExtraVars {
  vars: Record<string, unknown>;
  /** Per variable: the argv index of the `-e` that set it, or the file and line. */
  sources: Record<string, { argIndex: number; place?: Place }>;
  problems: InputProblem[];
  notes: string[];
}

export function loadExtraVars(args: readonly ArgValue[], ctx: PathContext): ExtraVars {
  const out: ExtraVars = { vars: {}, sources: {}, problems: [], notes: [] };
  for (const { value, argIndex } of args) {
    const where = `argv[${argIndex}]`;
    if (!value) continue;
    if (value.startsWith('@')) {
      const file = expandPath(value.slice(1), ctx.cwd, ctx);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        out.problems.push({
          file,
          line: 0,
          message: `cannot read extra vars file (-e ${value}): ${(err as NodeJS.ErrnoException).code ?? err}`,
        });
        continue;
      }
      const r = readVarsText(text, file);
      if ('vault' in r) {
        out.notes.push(`${file}: vault-encrypted extra vars are not read`);
        continue;
      }
      if ('problem' in r) {
        out.problems.push(r.problem);
        continue;
      }
      for (const [k, v] of Object.entries(r.vars.vars)) {
        out.vars[k] = v;
        out.sources[k] = { argIndex, place: r.vars.sources[k] };
      }
      continue;
    }
    if (value[0] === '/' || value[0] === '.') {
      out.problems.push({ file: where, line: 0, message: `Please prepend extra_vars filename '${value}' with '@'` });
      continue;
    }
    let data: unknown;
    if (value[0] === '[' || value[0] === '{') {
      try {
        data = JSON.parse(value);
      } catch {
        const parsed = parseYaml(value, where);
        if ('problem' in parsed) {
          out.problems.push({ ...parsed.problem, message: `-e ${parsed.problem.message}` });
          continue;
        }
        data = valueOf(parsed.yaml, parsed.yaml.doc.contents);
      }
    } else {
      data = parseKv(value);
    }
    if (!isPlainObject(data)) {
      out.problems.push({
        file: where,
        line: 0,
        message: `Invalid extra vars data supplied. '${value}' could not be made into a dictionary`,
      });
      continue;
    }
    for (const [k, v] of Object.entries(data)) {
      out.vars[k] = v;
      out.sources[k] = { argIndex };
    }
  }
  return out;
}

/** `parse_kv`: whitespace-separated `key=value` words (quotes and Jinja blocks kept together), values unquoted. */
export function parseKv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of splitArgs(args)) {
    let pos = -1;
    for (let i = 1; i < word.length; i++) {
      if (word[i] === '=' && word[i - 1] !== '\\') {
        pos = i;
        break;
      }
    }
    if (pos < 0) continue;
    out[word.slice(0, pos).trim()] = unquote(word.slice(pos + 1).trim());
  }
  return out;
}

/** `split_args`, simplified: split on whitespace outside quotes and `{{ }}` / `{% %}` / `{# #}` blocks. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const two = s.slice(i, i + 2);
    if (quote) {
      if (c === quote && s[i - 1] !== '\\') quote = '';
    } else if (two === '{{' || two === '{%' || two === '{#') {
      depth++;
      cur += two;
      i++;
      continue;
    } else if (depth > 0 && (two === '}}' || two === '%}' || two === '#}')) {
      depth--;
      cur += two;
      i++;
      continue;
    } else if (c === '"' || c === "'") quote = c;
    else if (/\s/.test(c) && depth === 0) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

function unquote(v: string): string {
  return v.length > 1 && v[0] === v[v.length - 1] && (v[0] === '"' || v[0] === "'") && v[v.length - 2] !== '\\'
    ? v.slice(1, -1)
    : v;
}
