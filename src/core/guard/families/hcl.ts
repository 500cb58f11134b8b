/**
 * A small, tolerant HCL2 scanner: blocks with labels, attributes `key = value`, quoted strings
 * (escapes; `${…}`/`%{…}` kept as written and marked interpolated), heredocs, comments (`#`, `//`,
 * `/* *\/`), lists and objects — each with its 1-based line and column. Anything else in an
 * expression (references, calls, operators, for-expressions) is kept as text plus the string
 * literals inside it. It is not an evaluator: enough to find backends and endpoints with their
 * places. Malformed input (an unclosed block, string, heredoc or comment) is a problem with a line,
 * never an exception. No npm HCL parser reports source positions, hence this.
 */

export interface HclString {
  value: string;
  /** Contains `${…}` or `%{…}`: the value is not known until evaluated. */
  interpolated: boolean;
  line: number;
  column: number;
}

export type HclValue =
  | ({ type: 'string' } & HclString)
  | { type: 'list'; items: HclValue[]; line: number; column: number }
  | { type: 'object'; entries: HclAttribute[]; line: number; column: number }
  | { type: 'expr'; text: string; strings: HclString[]; line: number; column: number };

export interface HclAttribute {
  name: string;
  value: HclValue;
  line: number;
  column: number;
}

export interface HclBlock {
  type: string;
  labels: string[];
  body: HclBody;
  line: number;
  column: number;
}

export interface HclBody {
  attributes: HclAttribute[];
  blocks: HclBlock[];
}

export interface HclProblem {
  line: number;
  column: number;
  message: string;
}

/** Parses HCL2 native syntax; never throws. Problems carry 1-based line and column. */
export function parseHcl(text: string): { body: HclBody; problems: HclProblem[] } {
  const problems: HclProblem[] = [];
  try {
    const tokens = lex(text, problems);
    const parser = new Parser(tokens, text, problems);
    return { body: parser.parseFile(), problems };
  } catch (err) {
    // A bug here must not become a stack trace for the user.
    problems.push({ line: 1, column: 1, message: `cannot parse: ${(err as Error).message}` });
    return { body: { attributes: [], blocks: [] }, problems };
  }
}

/** Every string literal in a value, depth first (list items, object entries, strings inside expressions). */
export function stringsIn(value: HclValue): HclString[] {
  switch (value.type) {
    case 'string':
      return [value];
    case 'list':
      return value.items.flatMap(stringsIn);
    case 'object':
      return value.entries.flatMap((e) => stringsIn(e.value));
    case 'expr':
      return value.strings;
  }
}

/** The attribute's value when it is one plain string (no interpolation). */
export function plainString(value: HclValue | undefined): string | undefined {
  return value?.type === 'string' && !value.interpolated ? value.value : undefined;
}

// ---------------------------------------------------------------------------------------------
// Lexer

type TokenType = 'ident' | 'string' | 'number' | 'punct' | 'nl' | 'eof';

interface Token {
  type: TokenType;
  /** Identifier/number/punctuation text, or a string's value. */
  value: string;
  interpolated: boolean;
  line: number;
  column: number;
  start: number;
  end: number;
}

const PUNCT3 = ['...'];
const PUNCT2 = ['==', '!=', '<=', '>=', '&&', '||', '=>'];
const PUNCT1 = '{}[]()=,:.?!+-*/%<>';

class LexError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

function lex(src: string, problems: HclProblem[]): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const col = (at: number) => at - lineStart + 1;
  const push = (
    type: TokenType,
    value: string,
    start: number,
    startLine: number,
    startCol: number,
    interpolated = false,
  ) => tokens.push({ type, value, interpolated, line: startLine, column: startCol, start, end: i });
  const newline = (at: number) => {
    line++;
    lineStart = at + 1;
  };

  /** Scans a quoted template from the opening quote; returns its value. Newlines only inside `${…}`. */
  const quoted = (): { value: string; interpolated: boolean } => {
    const startLine = line;
    const startCol = col(i);
    i++; // opening quote
    let value = '';
    let interpolated = false;
    while (i < src.length) {
      const ch = src[i];
      if (ch === '"') {
        i++;
        return { value, interpolated };
      }
      if (ch === '\n')
        throw new LexError(startLine, startCol, 'unterminated string: a quoted string must end on the line it starts');
      if (ch === '\\') {
        const next = src[i + 1];
        const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
        if (next !== undefined && next in simple) {
          value += simple[next];
          i += 2;
        } else if (next === 'u' || next === 'U') {
          const len = next === 'u' ? 4 : 8;
          const hex = src.slice(i + 2, i + 2 + len);
          value +=
            /^[0-9a-fA-F]+$/.test(hex) && hex.length === len ? String.fromCodePoint(parseInt(hex, 16)) : `\\${next}`;
          i += 2 + (hex.length === len ? len : 0);
        } else {
          value += next ?? '';
          i += 2;
        }
        continue;
      }
      if ((ch === '$' || ch === '%') && src[i + 1] === ch && src[i + 2] === '{') {
        value += `${ch}{`; // $${ and %%{ are literal
        i += 3;
        continue;
      }
      if ((ch === '$' || ch === '%') && src[i + 1] === '{') {
        const from = i;
        interpolation();
        value += src.slice(from, i);
        interpolated = true;
        continue;
      }
      value += ch;
      i++;
    }
    throw new LexError(startLine, startCol, 'unterminated string: missing closing "');
  };

  /** Skips `${ … }` from the `$`, including nested braces and strings. */
  const interpolation = () => {
    const startLine = line;
    const startCol = col(i);
    i += 2;
    let depth = 1;
    while (i < src.length) {
      const ch = src[i];
      if (ch === '"') {
        quoted();
        continue;
      }
      if (ch === '\n') newline(i);
      if (ch === '{') depth++;
      if (ch === '}' && --depth === 0) {
        i++;
        return;
      }
      i++;
    }
    throw new LexError(startLine, startCol, 'unterminated ${ … } in a string');
  };

  try {
    while (i < src.length) {
      const ch = src[i];
      const start = i;
      const startLine = line;
      const startCol = col(i);
      if (ch === '\n') {
        i++;
        push('nl', '\n', start, startLine, startCol);
        newline(start);
        continue;
      }
      if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\ufeff') {
        i++;
        continue;
      }
      if (ch === '#' || (ch === '/' && src[i + 1] === '/')) {
        while (i < src.length && src[i] !== '\n') i++;
        continue;
      }
      if (ch === '/' && src[i + 1] === '*') {
        const end = src.indexOf('*/', i + 2);
        if (end < 0) throw new LexError(startLine, startCol, 'unterminated comment: missing */');
        for (let k = i; k < end; k++) if (src[k] === '\n') newline(k);
        i = end + 2;
        continue;
      }
      if (ch === '"') {
        const s = quoted();
        push('string', s.value, start, startLine, startCol, s.interpolated);
        continue;
      }
      const heredoc = /^<<(-?)([A-Za-z_][\w-]*)[ \t]*\r?\n/.exec(src.slice(i, i + 200));
      if (heredoc) {
        const marker = heredoc[2];
        i += heredoc[0].length;
        newline(i - 1);
        const lines: string[] = [];
        let closed = false;
        while (i < src.length) {
          let eol = src.indexOf('\n', i);
          if (eol < 0) eol = src.length;
          const textLine = src.slice(i, eol).replace(/\r$/, '');
          i = eol < src.length ? eol + 1 : eol;
          if (eol < src.length) newline(eol);
          if (textLine.trim() === marker) {
            closed = true;
            break;
          }
          lines.push(textLine);
        }
        if (!closed) throw new LexError(startLine, startCol, `unterminated heredoc: no line with ${marker} closes it`);
        if (heredoc[1] === '-') {
          const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length), Infinity);
          if (Number.isFinite(indent)) for (let k = 0; k < lines.length; k++) lines[k] = lines[k].slice(indent);
        }
        const value = lines.join('\n');
        // The token ends at the marker line; a newline token follows so the attribute ends there.
        push('string', value, start, startLine, startCol, /(^|[^$])\$\{|(^|[^%])%\{/.test(value));
        tokens.push({ type: 'nl', value: '\n', interpolated: false, line: line - 1, column: 1, start: i, end: i });
        continue;
      }
      const ident = /^[\p{L}_][\p{L}\p{N}_-]*/u.exec(src.slice(i, i + 256));
      if (ident) {
        i += ident[0].length;
        push('ident', ident[0], start, startLine, startCol);
        continue;
      }
      const num = /^[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i, i + 64));
      if (num) {
        i += num[0].length;
        push('number', num[0], start, startLine, startCol);
        continue;
      }
      const p3 = PUNCT3.find((p) => src.startsWith(p, i));
      const p2 = p3 ?? PUNCT2.find((p) => src.startsWith(p, i));
      const p = p2 ?? (PUNCT1.includes(ch) ? ch : undefined);
      if (p) {
        i += p.length;
        push('punct', p, start, startLine, startCol);
        continue;
      }
      throw new LexError(startLine, startCol, `unexpected character ${JSON.stringify(ch)}`);
    }
  } catch (err) {
    if (!(err instanceof LexError)) throw err;
    problems.push({ line: err.line, column: err.column, message: err.message });
  }
  tokens.push({ type: 'eof', value: '', interpolated: false, line, column: col(i), start: i, end: i });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

const MAX_PROBLEMS = 20;
const OPEN: Record<string, string> = { '{': '}', '[': ']', '(': ')' };

class Parser {
  private pos = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly src: string,
    private readonly problems: HclProblem[],
  ) {}

  parseFile(): HclBody {
    // After a lexer error the token stream is cut short: parse what there is, but report only the lexer's problem.
    const lexFailed = this.problems.length > 0;
    const body = this.parseBody(undefined);
    if (lexFailed) this.problems.splice(1);
    return body;
  }

  private get tok(): Token {
    return this.tokens[this.pos];
  }

  private problem(t: Token, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ line: t.line, column: t.column, message });
  }

  private skipLine(): void {
    let depth = 0;
    while (this.tok.type !== 'eof') {
      const t = this.tok;
      if (t.type === 'punct' && OPEN[t.value]) depth++;
      if (t.type === 'punct' && ['}', ']', ')'].includes(t.value)) {
        if (depth === 0) return;
        depth--;
      }
      if (t.type === 'nl' && depth === 0) return;
      this.pos++;
    }
  }

  /** A body up to the `}` that closes `opener` (or to the end of the file when `opener` is undefined). */
  private parseBody(opener: { block: string; token: Token } | undefined): HclBody {
    const body: HclBody = { attributes: [], blocks: [] };
    for (;;) {
      const t = this.tok;
      if (t.type === 'nl') {
        this.pos++;
        continue;
      }
      if (t.type === 'eof') {
        if (opener) this.problem(opener.token, `unclosed block ${opener.block}: missing }`);
        return body;
      }
      if (t.type === 'punct' && t.value === '}') {
        if (opener) {
          this.pos++;
          return body;
        }
        this.problem(t, 'unexpected } (no block is open)');
        this.pos++;
        continue;
      }
      if (t.type !== 'ident') {
        this.problem(t, `expected an attribute or a block, found ${describe(t)}`);
        this.pos++;
        this.skipLine();
        continue;
      }
      const next = this.tokens[this.pos + 1];
      if (next.type === 'punct' && (next.value === '=' || next.value === ':')) {
        this.pos += 2;
        const value = this.parseValue(t, false);
        body.attributes.push({ name: t.value, value, line: t.line, column: t.column });
        this.endOfItem();
        continue;
      }
      // A block: type, labels (strings or identifiers), then {.
      this.pos++;
      const labels: string[] = [];
      while (this.tok.type === 'string' || this.tok.type === 'ident') {
        labels.push(this.tok.value);
        this.pos++;
      }
      if (!(this.tok.type === 'punct' && this.tok.value === '{')) {
        this.problem(
          this.tok,
          `expected = or { after ${t.value}${labels.map((l) => ` "${l}"`).join('')}, found ${describe(this.tok)}`,
        );
        this.skipLine();
        continue;
      }
      const open = this.tok;
      this.pos++;
      const name = [t.value, ...labels.map((l) => `"${l}"`)].join(' ');
      const inner = this.parseBody({ block: `${name} (opened at line ${open.line})`, token: t });
      body.blocks.push({ type: t.value, labels, body: inner, line: t.line, column: t.column });
      this.endOfItem();
    }
  }

  /** After an attribute or a block: a newline, `}` or the end. */
  private endOfItem(): void {
    const t = this.tok;
    if (t.type === 'nl' || t.type === 'eof' || (t.type === 'punct' && t.value === '}')) return;
    this.problem(t, `expected a new line, found ${describe(t)}`);
    this.skipLine();
  }

  /** Collects an expression's tokens (to a newline, `}` or — inside a collection — `,` at depth 0) and reads them. */
  private parseValue(owner: Token, inCollection: boolean): HclValue {
    const from = this.pos;
    const stack: Token[] = [];
    for (;;) {
      const t = this.tok;
      if (t.type === 'eof') {
        if (stack.length > 0)
          this.problem(
            stack[stack.length - 1],
            `unclosed ${stack[stack.length - 1].value} in the value of ${owner.value}`,
          );
        break;
      }
      if (
        stack.length === 0 &&
        (t.type === 'nl' ||
          (t.type === 'punct' &&
            (t.value === '}' || t.value === ']' || t.value === ')' || (inCollection && t.value === ','))))
      )
        break;
      if (t.type === 'punct' && OPEN[t.value]) stack.push(t);
      else if (t.type === 'punct' && (t.value === '}' || t.value === ']' || t.value === ')')) {
        const open = stack.pop()!;
        if (OPEN[open.value] !== t.value) {
          this.problem(t, `${t.value} does not match ${open.value} at line ${open.line}`);
          stack.length = 0;
        }
      }
      this.pos++;
    }
    const slice = this.tokens.slice(from, this.pos).filter((t) => t.type !== 'nl');
    if (slice.length === 0) {
      this.problem(owner, `${owner.value} has no value`);
      return { type: 'expr', text: '', strings: [], line: owner.line, column: owner.column };
    }
    return this.interpret(this.tokens.slice(from, this.pos));
  }

  /** Reads a token slice (newlines included, as separators) as a string, list, object or other expression. */
  private interpret(all: Token[]): HclValue {
    let a = 0;
    let b = all.length;
    while (a < b && all[a].type === 'nl') a++;
    while (b > a && all[b - 1].type === 'nl') b--;
    const toks = all.slice(a, b);
    const first = toks[0];
    const last = toks[toks.length - 1];
    const at = { line: first.line, column: first.column };
    if (toks.length === 1 && first.type === 'string') {
      return { type: 'string', value: first.value, interpolated: first.interpolated, ...at };
    }
    const wraps = (o: string, c: string) =>
      first.value === o &&
      first.type === 'punct' &&
      last.type === 'punct' &&
      last.value === c &&
      this.matching(toks, 0) === toks.length - 1;
    const isFor = toks[1]?.type === 'ident' && toks[1].value === 'for';
    if (!isFor && wraps('[', ']')) {
      return { type: 'list', items: this.split(toks.slice(1, -1), false).map((item) => this.interpret(item)), ...at };
    }
    if (!isFor && wraps('{', '}')) {
      const entries: HclAttribute[] = [];
      for (const entry of this.split(toks.slice(1, -1), true)) {
        const eq = this.topLevelIndex(entry, (t) => t.type === 'punct' && (t.value === '=' || t.value === ':'));
        if (eq <= 0 || eq === entry.length - 1) {
          return this.expr(toks, at);
        }
        const key = entry.slice(0, eq);
        const name =
          key.length === 1 && (key[0].type === 'ident' || key[0].type === 'string') ? key[0].value : this.text(key);
        entries.push({ name, value: this.interpret(entry.slice(eq + 1)), line: key[0].line, column: key[0].column });
      }
      return { type: 'object', entries, ...at };
    }
    return this.expr(toks, at);
  }

  private expr(toks: Token[], at: { line: number; column: number }): HclValue {
    const strings = toks
      .filter((t) => t.type === 'string')
      .map((t) => ({ value: t.value, interpolated: t.interpolated, line: t.line, column: t.column }));
    return { type: 'expr', text: this.text(toks), strings, ...at };
  }

  private text(toks: Token[]): string {
    return toks.length ? this.src.slice(toks[0].start, toks[toks.length - 1].end) : '';
  }

  /** Index of the token closing the bracket at `open` (within `toks`), or -1. */
  private matching(toks: Token[], open: number): number {
    let depth = 0;
    for (let k = open; k < toks.length; k++) {
      const t = toks[k];
      if (t.type !== 'punct') continue;
      if (OPEN[t.value]) depth++;
      else if (t.value === '}' || t.value === ']' || t.value === ')') {
        depth--;
        if (depth === 0) return k;
      }
    }
    return -1;
  }

  private topLevelIndex(toks: Token[], pred: (t: Token) => boolean): number {
    let depth = 0;
    for (let k = 0; k < toks.length; k++) {
      const t = toks[k];
      if (t.type === 'punct' && OPEN[t.value]) depth++;
      else if (t.type === 'punct' && (t.value === '}' || t.value === ']' || t.value === ')')) depth--;
      else if (depth === 0 && pred(t)) return k;
    }
    return -1;
  }

  /** Splits on `,` (and, for objects, newlines) at depth 0, dropping empty parts. */
  private split(toks: Token[], newlines: boolean): Token[][] {
    const parts: Token[][] = [];
    let cur: Token[] = [];
    let depth = 0;
    for (const t of toks) {
      if (t.type === 'punct' && OPEN[t.value]) depth++;
      else if (t.type === 'punct' && (t.value === '}' || t.value === ']' || t.value === ')')) depth--;
      if (depth === 0 && ((t.type === 'punct' && t.value === ',') || (newlines && t.type === 'nl'))) {
        parts.push(cur);
        cur = [];
        continue;
      }
      cur.push(t);
    }
    parts.push(cur);
    return parts.filter((p) => p.some((t) => t.type !== 'nl'));
  }
}

function describe(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'the end of the file';
    case 'nl':
      return 'a new line';
    case 'string':
      return `the string "${t.value.slice(0, 40)}"`;
    default:
      return JSON.stringify(t.value);
  }
}
