// Makes sure the system packages the tests need are present. As root (as in CI) it installs what
// is missing with apt-get; otherwise it stops at once with the exact install line.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian package → how to tell it is installed. */
const NEEDS = [
  { pkg: 'docker.io', present: () => onPath('dockerd') && onPath('docker'), why: 'Docker engine for sandboxes' },
  { pkg: 'docker-compose', present: () => onPath('docker-compose'), why: 'Compose v1 for compose sandboxes' },
  {
    pkg: 'ansible',
    present: () => onPath('ansible-playbook') && onPath('ansible-inventory'),
    why: 'idempotence gates, inventories',
  },
  {
    pkg: 'dnsmasq',
    present: () => onPath('dnsmasq') || existsSync('/usr/sbin/dnsmasq'),
    why: 'a real DNS server for guard tests',
  },
  { pkg: 'chromium', present: () => existsSync('/usr/bin/chromium'), why: 'the browser that shows the real VS Code' },
  {
    pkg: 'libkrb5-dev',
    present: () => existsSync('/usr/include/gssapi/gssapi.h'),
    why: "code-server's native kerberos build",
  },
  {
    pkg: 'debootstrap',
    present: () => onPath('debootstrap') || existsSync('/usr/sbin/debootstrap'),
    why: 'local base images (no registry)',
  },
];

const missing = NEEDS.filter((n) => !n.present());
if (missing.length === 0) {
  console.log('system packages: all present');
  process.exit(0);
}
const pkgs = missing.map((m) => m.pkg);
const line = `apt-get update && apt-get install -y ${pkgs.join(' ')}`;
for (const m of missing) console.log(`missing: ${m.pkg} (${m.why})`);
if (process.getuid?.() !== 0 || !onPath('apt-get')) {
  console.error(`\nThe tests need system packages. Install them, then run npm test again:\n\n  sudo ${line}\n`);
  process.exit(1);
}
console.log(`installing: ${pkgs.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update'], ['install', '-y', ...pkgs]]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`\n\`apt-get ${args.join(' ')}\` failed (exit ${r.status}). Install by hand:\n\n  ${line}\n`);
    process.exit(1);
  }
}
const still = missing.filter((m) => !m.present());
if (still.length) {
  console.error(`still missing after install: ${still.map((m) => m.pkg).join(' ')}`);
  process.exit(1);
}

function onPath(cmd) {
  return (
    (process.env.PATH ?? '').split(':').some((d) => d && existsSync(`${d}/${cmd}`)) || existsSync(`/usr/sbin/${cmd}`)
  );
}
