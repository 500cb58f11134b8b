import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatProblem, validateConfigText, type ConfigProblem } from '../../../src/core/config';

const example = readFileSync(join(__dirname, '../../../examples/homelab/infra-sandbox.yaml'), 'utf8');

function problems(text: string): ConfigProblem[] {
  const result = validateConfigText('infra-sandbox.yaml', text);
  assert.equal(result.ok, false, 'expected the config to be rejected');
  return result.ok ? [] : result.problems;
}

describe('workspace config validation', () => {
  it('accepts the example homelab config and returns its content', () => {
    const result = validateConfigText('infra-sandbox.yaml', example);
    assert.ok(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n'));
    assert.deepEqual(Object.keys(result.config.sandboxes ?? {}), ['lab', 'stack', 'nodes']);
    assert.equal(result.config.gates?.idempotence?.[0].exempt?.[0].expires, '2027-03-01');
  });

  it('reports a wrong type at the value, with its key path', () => {
    const [p] = problems(example.replace('maxSandboxes: 3', 'maxSandboxes: three'));
    const line = example.split('\n').findIndex((l) => l.includes('maxSandboxes: 3')) + 1;
    assert.equal(p.key, 'limits.maxSandboxes');
    assert.equal(p.line, line);
    assert.equal(p.column, example.split('\n')[line - 1].indexOf('three') + 1 || 25);
    assert.match(p.message, /must be an integer \(got "three"\)/);
    assert.equal(formatProblem(p), `infra-sandbox.yaml:${p.line}:${p.column}: error limits.maxSandboxes: ${p.message}`);
  });

  it('points at an unknown key and lists the allowed ones', () => {
    const [p] = problems('version: 1\nlimits:\n  maxSandbox: 3\n');
    assert.deepEqual([p.line, p.column, p.key], [3, 3, 'limits.maxSandbox']);
    assert.match(p.message, /unknown key "maxSandbox"; expected one of: maxSandboxes, ttl/);
  });

  it('names the allowed values of an enum', () => {
    const [p] = problems('version: 1\nsandboxes:\n  lab:\n    provider: k3dd\n    template: k3d/fast\n');
    assert.deepEqual([p.line, p.column, p.key], [4, 15, 'sandboxes.lab.provider']);
    assert.match(p.message, /one of: k3d, compose, multipass \(got "k3dd"\)/);
  });

  it('reports a missing required key at the entry that lacks it', () => {
    const [p] = problems('version: 1\nsandboxes:\n  nodes:\n    template: x\n');
    assert.deepEqual([p.line, p.column, p.key], [3, 3, 'sandboxes.nodes']);
    assert.match(p.message, /missing required key "provider"/);
  });

  it('rejects a sandbox name that is not a DNS label, at the name', () => {
    const [p] = problems('version: 1\nsandboxes:\n  Bad_Name:\n    provider: k3d\n    template: x\n');
    assert.deepEqual([p.line, p.column, p.key], [3, 3, 'sandboxes.Bad_Name']);
    assert.match(p.message, /DNS label/);
  });

  it('explains a malformed CIDR', () => {
    const [p] = problems('version: 1\nproduction:\n  networks: [192.168.1.0/24, prod-lan]\n');
    assert.deepEqual([p.line, p.key], [3, 'production.networks[1]']);
    assert.match(p.message, /CIDR notation.*\(got "prod-lan"\)/);
  });

  it('reports every problem, sorted by line', () => {
    const ps = problems('version: 2\nlimits: { maxSandboxes: 0, ttl: forever }\nextra: true\n');
    assert.deepEqual(
      ps.map((p) => [p.line, p.key]),
      [
        [1, 'version'],
        [2, 'limits.maxSandboxes'],
        [2, 'limits.ttl'],
        [3, 'extra'],
      ],
    );
  });

  it('reports broken YAML at its line without throwing', () => {
    const [p] = problems('version: 1\nproduction:\n  networks: [192.168.1.0/24\nsandboxes: {}\n');
    assert.match(p.message, /^YAML syntax: /);
    assert.ok(p.line >= 3, `line ${p.line}`);
  });

  it('rejects duplicate keys', () => {
    const [p] = problems('version: 1\nlimits: {}\nlimits: {}\n');
    assert.match(p.message, /YAML syntax: .*unique/i);
    assert.equal(p.line, 3);
  });

  it('says what an empty file needs', () => {
    const [p] = problems('# nothing yet\n');
    assert.match(p.message, /version: 1/);
  });

  it('flags a gate that names a sandbox that does not exist', () => {
    const [p] = problems('version: 1\nsandboxes: {}\ngates:\n  plan:\n    - dir: infra\n      sandbox: nope\n');
    assert.deepEqual([p.line, p.column, p.key], [6, 16, 'gates.plan[0].sandbox']);
    assert.match(p.message, /unknown sandbox "nope"/);
  });
});
