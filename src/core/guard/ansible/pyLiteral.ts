/**
 * The two pieces of Python that decide what an INI inventory line means: `shlex.split(line,
 * comments=True)` (host lines) and `ast.literal_eval` (every value; a value that is not a Python
 * literal stays the raw string). Only what inventories use: strings, numbers, booleans, None,
 * lists, tuples, dicts and sets.
 */

export class ShlexError extends Error {}

/** POSIX `shlex.split(s, comments=True)`: quotes, backslash escapes, `#` comments. */
export function shlexSplit(s: string): string[] {
  // Most lines hold no quotes or escapes: words up to the first '#'.
  if (!/['"\\]/.test(s)) {
    const hash = s.indexOf('#');
    return (hash < 0 ? s : s.slice(0, hash)).split(/[ \t\r\n]+/).filter((w) => w !== '');
  }
  const out: string[] = [];
  let token = '';
  let quoted = false;
  let inToken = false;
  let i = 0;
  const n = s.length;
  const push = () => {
    if (inToken && (token !== '' || quoted)) out.push(token);
    token = '';
    quoted = false;
    inToken = false;
  };
  while (i < n) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      push();
      i++;
    } else if (c === '#') {
      // A comment starts at a word boundary and inside a word alike (posix shlex).
      push();
      break;
    } else if (c === "'") {
      inToken = true;
      quoted = true;
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ShlexError('No closing quotation');
      token += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      inToken = true;
      quoted = true;
      i++;
      for (;;) {
        if (i >= n) throw new ShlexError('No closing quotation');
        const d = s[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\') {
          if (i + 1 >= n) throw new ShlexError('No closing quotation');
          const e = s[i + 1];
          token += e === '"' || e === '\\' ? e : `\\${e}`;
          i += 2;
          continue;
        }
        token += d;
        i++;
      }
    } else if (c === '\\') {
      if (i + 1 >= n) throw new ShlexError('No escaped character');
      inToken = true;
      token += s[i + 1];
      i += 2;
    } else {
      inToken = true;
      token += c;
      i++;
    }
  }
  push();
  return out;
}

/** `ast.literal_eval(v)`, or `v` itself when it is not a literal (Ansible's `_parse_value`). */
export function pyValue(v: string): unknown {
  const r = parseLiteral(v);
  return r.ok ? r.value : v;
}

type Result = { ok: true; value: unknown } | { ok: false };
const FAIL: Result = { ok: false };

export function parseLiteral(src: string): Result {
  // literal_eval strips leading spaces and tabs.
  const s = src.replace(/^[ \t]+/, '');
  // Fast path for what inventories mostly hold (names, addresses, paths): not literals.
  if (!LITERAL_START.test(s) || (/^[0-9.]/.test(s) && NOT_A_NUMBER.test(s))) return FAIL;
  const p = new Parser(s);
  try {
    const value = p.value();
    p.ws(false);
    if (p.i < p.s.length) return FAIL;
    return { ok: true, value };
  } catch (err) {
    if (err === BAD) return FAIL;
    throw err;
  }
}

const LITERAL_START = /^(?:['"[({+\-0-9.]|[rRbBuU]{1,2}['"]|True\b|False\b|None\b)/;
/** `1.2.3.4`, `10.0.0.1/24`, `2001:db8::1`: digits with more than one dot, or a colon, slash… */
const NOT_A_NUMBER = /^[0-9.]*\.[0-9]*\.|^[0-9][0-9a-fA-F]*[:/-]/;

/** Thrown (not an Error: no stack to capture) when the text is not a literal. */
const BAD = Symbol('not a literal');

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  /** Skips spaces (and newlines inside brackets) and `# comments`. */
  ws(nested: boolean): void {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\f' || (nested && (c === '\n' || c === '\r'))) this.i++;
      else if (c === '\\' && (s[this.i + 1] === '\n' || s[this.i + 1] === '\r')) this.i += 2;
      else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
        if (!nested) return;
      } else return;
    }
  }

  value(nested = false): unknown {
    this.ws(nested);
    const s = this.s;
    const c = s[this.i];
    if (c === undefined) throw BAD;
    if (c === '[') return this.seq(']', nested);
    if (c === '(') {
      // A parenthesised expression or a tuple.
      this.i++;
      this.ws(true);
      if (s[this.i] === ')') {
        this.i++;
        return [];
      }
      const first = this.value(true);
      this.ws(true);
      if (s[this.i] === ')') {
        this.i++;
        return first;
      }
      const items = [first];
      while (s[this.i] === ',') {
        this.i++;
        this.ws(true);
        if (s[this.i] === ')') break;
        items.push(this.value(true));
        this.ws(true);
      }
      if (s[this.i] !== ')') throw BAD;
      this.i++;
      return items;
    }
    if (c === '{') return this.dictOrSet();
    if (c === '+' || c === '-') {
      this.i++;
      const v = this.value(nested);
      if (typeof v !== 'number') throw BAD;
      return c === '-' ? -v : v;
    }
    const str = this.strings(nested);
    if (str !== undefined) return str;
    const num =
      /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?)(?![\w.])/.exec(
        s.slice(this.i),
      );
    if (num) {
      const t = num[0].replace(/_/g, '');
      this.i += num[0].length;
      if (/^0[xX]/.test(t)) return Number.parseInt(t.slice(2), 16);
      if (/^0[oO]/.test(t)) return Number.parseInt(t.slice(2), 8);
      if (/^0[bB]/.test(t)) return Number.parseInt(t.slice(2), 2);
      // Python 3 refuses decimal integers with leading zeros ("010"), but "0", "00" are fine.
      if (/^0+[1-9][0-9]*$/.test(t)) throw BAD;
      return Number(t);
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i));
    if (word) {
      this.i += word[0].length;
      if (word[0] === 'True') return true;
      if (word[0] === 'False') return false;
      if (word[0] === 'None') return null;
    }
    throw BAD;
  }

  seq(close: string, _nested: boolean): unknown[] {
    this.i++;
    const items: unknown[] = [];
    this.ws(true);
    while (this.s[this.i] !== close) {
      items.push(this.value(true));
      this.ws(true);
      if (this.s[this.i] === ',') {
        this.i++;
        this.ws(true);
      } else if (this.s[this.i] !== close) throw BAD;
    }
    this.i++;
    return items;
  }

  dictOrSet(): unknown {
    this.i++;
    this.ws(true);
    if (this.s[this.i] === '}') {
      this.i++;
      return {};
    }
    const first = this.value(true);
    this.ws(true);
    if (this.s[this.i] !== ':') {
      // A set literal: its members, as a list.
      const items = [first];
      while (this.s[this.i] === ',') {
        this.i++;
        this.ws(true);
        if (this.s[this.i] === '}') break;
        items.push(this.value(true));
        this.ws(true);
      }
      if (this.s[this.i] !== '}') throw BAD;
      this.i++;
      return items;
    }
    const out: Record<string, unknown> = {};
    let key = first;
    for (;;) {
      this.i++; // ':'
      const v = this.value(true);
      if (typeof key === 'object' && key !== null) throw BAD;
      out[String(key)] = v;
      this.ws(true);
      if (this.s[this.i] === ',') {
        this.i++;
        this.ws(true);
        if (this.s[this.i] === '}') break;
        key = this.value(true);
        this.ws(true);
        if (this.s[this.i] !== ':') throw BAD;
        continue;
      }
      break;
    }
    if (this.s[this.i] !== '}') throw BAD;
    this.i++;
    return out;
  }

  /** One or more adjacent string literals (concatenated), or undefined when there is none here. */
  strings(nested: boolean): string | undefined {
    let out: string | undefined;
    for (;;) {
      const m = /^([rRbBuU]|[rR][bB]|[bB][rR])?('''|"""|'|")/.exec(this.s.slice(this.i));
      if (!m) return out;
      const prefix = (m[1] ?? '').toLowerCase();
      const quote = m[2];
      this.i += m[0].length;
      const end = this.findClose(quote);
      const body = this.s.slice(this.i, end);
      this.i = end + quote.length;
      out = (out ?? '') + (prefix.includes('r') ? body : unescape(body));
      const save = this.i;
      this.ws(nested);
      if (!/^([rRbBuU]|[rR][bB]|[bB][rR])?['"]/.test(this.s.slice(this.i))) {
        this.i = save;
        return out;
      }
    }
  }

  findClose(quote: string): number {
    const s = this.s;
    for (let j = this.i; j < s.length; j++) {
      if (s[j] === '\\') {
        j++;
        continue;
      }
      if (quote.length === 1 && (s[j] === '\n' || s[j] === '\r')) throw BAD;
      if (s.startsWith(quote, j)) return j;
    }
    throw BAD;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function unescape(body: string): string {
  return body.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|N\{[^}]*\}|[\s\S])/g,
    (all, e: string) => {
      if (e in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[e];
      if (/^[xuU]/.test(e)) return String.fromCodePoint(Number.parseInt(e.slice(1), 16));
      if (/^[0-7]/.test(e)) return String.fromCodePoint(Number.parseInt(e, 8));
      return all;
    },
  );
}
