import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseHcl, stringsIn, type HclBody, type HclValue } from '../../../src/core/guard/families/hcl';

const fixtures = resolve(__dirname, '../../fixtures/tofu');
const tricky = readFileSync(join(fixtures, 'tricky.tf'), 'utf8');

function attr(body: HclBody, name: string): HclValue {
  const a = body.attributes.find((x) => x.name === name);
  assert.ok(a, `no attribute ${name}`);
  return a.value;
}

describe('HCL scanner', () => {
  const { body, problems } = parseHcl(tricky);
  const locals = body.blocks.find((b) => b.type === 'locals')!.body;

  it('reads the tricky fixture without problems, keeping block order, labels and lines', () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(
      body.blocks.map((b) => [b.type, b.labels, b.line]),
      [
        ['terraform', [], 2],
        ['locals', [], 4],
        ['provider', ['vault'], 24],
      ],
    );
  });

  it('reads one-line nested blocks', () => {
    const backend = body.blocks[0].body.blocks[0];
    assert.deepEqual([backend.type, backend.labels], ['backend', ['http']]);
    assert.deepEqual(attr(backend.body, 'address'), {
      type: 'string',
      value: 'https://state.corp.example/tf/prod',
      interpolated: false,
      line: 2,
      column: 40,
    });
  });

  it('skips ${…} with braces and quotes inside, and marks the string interpolated', () => {
    const v = attr(locals, 'nested');
    assert.equal(v.type, 'string');
    assert.equal(v.type === 'string' && v.interpolated, true);
    assert.equal(v.type === 'string' && v.value, 'a ${join(",", ["x", "}"])} b');
  });

  it('decodes escapes, and $${ is a literal, not an interpolation', () => {
    const v = attr(locals, 'escaped');
    assert.deepEqual(v.type === 'string' && [v.value, v.interpolated], [
      'tab\tquote" dollar ${not_interp} unicode é',
      false,
    ]);
  });

  it('reads lists (trailing comma, comments) and objects (quoted keys, colons, nesting)', () => {
    const multi = attr(locals, 'multi');
    assert.deepEqual(
      stringsIn(multi).map((s) => [s.value, s.line]),
      [
        ['one', 8],
        ['two', 9],
      ],
    );
    const obj = attr(locals, 'obj');
    assert.equal(obj.type, 'object');
    assert.deepEqual(obj.type === 'object' && obj.entries.map((e) => [e.name, e.value.type, e.line]), [
      ['quoted key', 'expr', 12],
      ['plain', 'object', 13],
      ['colon', 'string', 14],
    ]);
  });

  it('keeps for-expressions and conditionals as expressions, with their string literals', () => {
    assert.equal(attr(locals, 'fors').type, 'expr');
    const cond = attr(locals, 'cond');
    assert.deepEqual(
      stringsIn(cond).map((s) => s.value),
      ['yes', 'no'],
    );
  });

  it('reads a heredoc and carries on after it', () => {
    const h = attr(locals, 'heredoc');
    assert.deepEqual(h.type === 'string' && [h.value, h.interpolated, h.line], ['first ${var.y}', true, 18]);
    const after = locals.attributes.find((a) => a.name === 'after')!;
    assert.deepEqual([after.line, after.value.type === 'string' && after.value.value], [21, 'still parsed']);
  });

  it('strips the indentation of <<- heredocs', () => {
    const { body: b } = parseHcl('x = <<-EOT\n    a\n      b\n    EOT\ny = 1\n');
    const x = attr(b, 'x');
    assert.equal(x.type === 'string' && x.value, 'a\n  b');
    assert.equal(b.attributes[1].line, 5);
  });

  it('handles CRLF line endings and tfvars-style top-level attributes', () => {
    const { body: b, problems: p } = parseHcl('a = "1"\r\nb = ["x",\r\n  "y"]\r\nc = 3\r\n');
    assert.deepEqual(p, []);
    assert.deepEqual(
      b.attributes.map((x) => [x.name, x.line]),
      [
        ['a', 1],
        ['b', 2],
        ['c', 4],
      ],
    );
  });

  const malformed: [string, number, number, RegExp][] = [
    ['unclosed-block.tf', 1, 1, /unclosed block provider "postgresql" \(opened at line 1\): missing }/],
    ['unclosed-string.tf', 6, 13, /unterminated string/],
    ['unclosed-heredoc.tf', 2, 12, /unterminated heredoc: no line with EOT closes it/],
    ['unclosed-comment.tf', 4, 1, /unterminated comment/],
  ];
  for (const [file, line, column, message] of malformed) {
    it(`reports ${file} at ${line}:${column}`, () => {
      const { problems: p } = parseHcl(readFileSync(join(fixtures, 'malformed', file), 'utf8'));
      assert.equal(p.length, 1, JSON.stringify(p));
      assert.deepEqual([p[0].line, p[0].column], [line, column]);
      assert.match(p[0].message, message);
    });
  }

  it('reports stray tokens and carries on', () => {
    const { body: b, problems: p } = parseHcl('a = 1\n}\n"oops"\nb = 2\nc d e\n');
    assert.deepEqual(
      p.map((x) => x.line),
      [2, 3, 5],
    );
    assert.deepEqual(
      b.attributes.map((x) => x.name),
      ['a', 'b'],
    );
  });

  it('never throws: every prefix of the tricky fixture parses or reports a problem', () => {
    for (let n = 0; n <= tricky.length; n++) {
      const { problems: p } = parseHcl(tricky.slice(0, n));
      for (const x of p) {
        assert.ok(x.line >= 1 && x.column >= 1, `prefix ${n}: ${JSON.stringify(x)}`);
        assert.doesNotMatch(x.message, /^cannot parse:/, `prefix ${n}: an internal error was caught`);
      }
    }
  });
});
