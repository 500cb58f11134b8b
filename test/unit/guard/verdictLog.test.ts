import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Verdict } from '../../../src/core/guard/types';
import { readRecentVerdicts, recordVerdict, verdictLogPath } from '../../../src/core/guard/verdictLog';
import { tempDir } from '../../helpers/tmp';

function verdict(n: number, kind: Verdict['verdict'] = 'block'): Verdict {
  return {
    verdict: kind,
    environment: 'sandbox',
    command: ['ssh', `host${n}`],
    reason: `reason ${n}`,
    notes: [],
    targets: [
      {
        kind: 'host',
        name: `host${n}`,
        source: 'argv[1]',
        chain: [`host${n}`, '192.168.1.10 ∈ 192.168.1.0/24 production'],
        addresses: ['192.168.1.10'],
        production: kind === 'block',
        rule: '192.168.1.0/24 production',
      },
    ],
  };
}

describe('guard verdict log', () => {
  it('keeps the verdicts next to the config, newest first, with their chains', async () => {
    const dir = tempDir('verdicts');
    const config = join(dir, 'infra-sandbox.yaml');
    await recordVerdict(config, dir, verdict(1));
    await recordVerdict(config, dir, verdict(2, 'allow'));
    const file = verdictLogPath(config);
    assert.equal(file, join(dir, '.infra-sandbox', 'guard-verdicts.jsonl'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const recent = await readRecentVerdicts(file);
    assert.deepEqual(
      recent.map((r) => [r.verdict, r.command.join(' ')]),
      [
        ['allow', 'ssh host2'],
        ['block', 'ssh host1'],
      ],
    );
    assert.deepEqual(recent[1].targets[0].chain, ['host1', '192.168.1.10 ∈ 192.168.1.0/24 production']);
  });

  it('skips a torn last line and reads nothing from a missing log', async () => {
    const dir = tempDir('verdicts');
    const config = join(dir, 'infra-sandbox.yaml');
    await recordVerdict(config, dir, verdict(1));
    writeFileSync(verdictLogPath(config), '{"verdict":"blo', { flag: 'a' });
    assert.deepEqual(
      (await readRecentVerdicts(verdictLogPath(config))).map((r) => r.reason),
      ['reason 1'],
    );
    assert.deepEqual(await readRecentVerdicts(join(dir, 'nothing.jsonl')), []);
  });

  it('trims itself past 1 MiB to whole lines, keeping the newest', async () => {
    const dir = tempDir('verdicts');
    const config = join(dir, 'infra-sandbox.yaml');
    const file = verdictLogPath(config);
    await recordVerdict(config, dir, verdict(0));
    // About 1.2 MiB of old records, then one more verdict.
    const old = `${JSON.stringify({ at: '2026-01-01T00:00:00Z', cwd: dir, verdict: 'allow', command: ['x'], reason: 'old', targets: [] })}\n`;
    writeFileSync(file, old.repeat(Math.ceil((1.2 * 1024 * 1024) / old.length)), { flag: 'a' });
    await recordVerdict(config, dir, verdict(9));
    const size = statSync(file).size;
    assert.ok(size <= 256 * 1024, `trimmed to ${size} bytes`);
    const recent = await readRecentVerdicts(file, 1000);
    assert.equal(recent[0].reason, 'reason 9');
    assert.ok(
      recent.every((r) => typeof r.verdict === 'string'),
      'only whole records remain',
    );
    assert.ok(!recent.some((r) => r.reason === 'reason 0'), 'the oldest record was dropped');
  });
});
