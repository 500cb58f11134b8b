// Guard overhead (SPEC §9): `infra-sandbox guard exec -- CMD` against running CMD directly, cold
// (a new CLI process each time, no companion), and parse + verdict for a 5,000-host inventory.
// Runs on the production bundle (bench/extension.bench.mjs builds it first; files sort before).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './lib/stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 31;

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'isb-bench-guard-'));
  try {
    writeFileSync(
      join(dir, 'infra-sandbox.yaml'),
      'version: 1\nproduction:\n  networks: [192.168.1.0/24]\nsandbox:\n  networks: [127.0.0.0/8]\nguard:\n  onUnresolved: block\n',
    );
    // A sandbox inventory the command reaches: address literals, no DNS (DNS time is the network's, not ours).
    const lines = ['[nodes]'];
    for (let i = 0; i < 5000; i++)
      lines.push(`node${i} ansible_host=127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    writeFileSync(join(dir, 'hosts.ini'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'small.ini'), '[nodes]\nn1 ansible_host=127.0.0.2\nn2 ansible_host=127.0.0.3\n');

    const time = (cmd, args) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      return ms;
    };
    // A stand-in ansible-playbook that does nothing: the guard's own cost is what is measured.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'ansible-playbook'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const fake = join(bin, 'ansible-playbook');
    const cli = join(root, 'dist', 'cli.js');
    const direct = [];
    const guarded = [];
    const viaAnsible = [];
    for (let i = 0; i < RUNS; i++) {
      direct.push(time(fake, ['-i', 'small.ini', 'site.yml']));
      guarded.push(
        time(process.execPath, [
          cli,
          'guard',
          '--inventory-parser',
          'builtin',
          'exec',
          '--',
          fake,
          '-i',
          'small.ini',
          'site.yml',
        ]),
      );
    }
    if (spawnSync('ansible-inventory', ['--version']).status === 0) {
      for (let i = 0; i < 5; i++) {
        viaAnsible.push(
          time(process.execPath, [
            cli,
            'guard',
            '--inventory-parser',
            'ansible',
            'exec',
            '--',
            fake,
            '-i',
            'small.ini',
            'site.yml',
          ]),
        );
      }
    }
    const big = [];
    for (let i = 0; i < 7; i++) {
      big.push(
        time(process.execPath, [cli, 'guard', '--inventory-parser', 'builtin', 'check', '--inventory', 'hosts.ini']),
      );
    }
    const empty = [];
    for (let i = 0; i < 7; i++) empty.push(time(process.execPath, [cli, '--version']));
    const added50 = percentile(guarded, 50) - percentile(direct, 50);
    const added95 = percentile(guarded, 95) - percentile(direct, 95);
    const bigNet = percentile(big, 50) - percentile(empty, 50);
    return [
      {
        measure: `guard exec ansible-playbook, cold (new process, builtin inventory parser) vs direct, added (n=${RUNS})`,
        budget: 'p50 ≤ 150 ms',
        result: `p50 +${added50.toFixed(0)} ms, p95 +${added95.toFixed(0)} ms (direct p50 ${percentile(direct, 50).toFixed(1)} ms)`,
        ok: added50 <= 150,
      },
      ...(viaAnsible.length
        ? [
            {
              measure: 'guard exec, cold, with the real ansible-inventory (--inventory-parser ansible, n=5)',
              budget: '(informative)',
              result: `p50 +${(percentile(viaAnsible, 50) - percentile(direct, 50)).toFixed(0)} ms`,
              ok: true,
            },
          ]
        : []),
      {
        measure: 'inventory of 5,000 hosts: parse + verdict (guard check minus CLI start-up)',
        budget: '≤ 300 ms',
        result: `${bigNet.toFixed(0)} ms (whole process p50 ${percentile(big, 50).toFixed(0)} ms)`,
        ok: bigNet <= 300,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
