/**
 * The command lines of `ansible`, `ansible-playbook`, `ansible-inventory` and `ansible-console`
 * read as their argparse parsers do (ansible-core 2.14): `-i x`, `-ix`, `-i=x`, `--inventory=x`,
 * unambiguous long-option prefixes (`--inventory-f`), clustered short flags (`-bK`), `--`.
 */

export type AnsibleCommand = 'ansible' | 'ansible-playbook' | 'ansible-inventory' | 'ansible-console';

export interface ArgValue {
  value: string;
  /** Index in argv (0 = the command) of the argument holding the value. */
  argIndex: number;
}

export interface AnsibleArgs {
  command: AnsibleCommand;
  inventories: ArgValue[];
  limit?: ArgValue;
  /** The host pattern of `ansible` / `ansible-console`. */
  pattern?: ArgValue;
  playbooks: ArgValue[];
  extraVars: ArgValue[];
  connection?: ArgValue;
  /** `--ssh-common-args` / `--ssh-extra-args`: may carry `-J` / `-o ProxyJump=`. */
  sshArgs: ArgValue[];
  playbookDir?: ArgValue;
  /** Set when the command only lists or checks and connects to no host (`--list-hosts`, `--syntax-check`, `--help`…). */
  connectsToNothing?: string;
  notes: string[];
}

interface OptionTable {
  /** option string → canonical name; value options take an argument. */
  values: Map<string, string>;
  flags: Map<string, string>;
}

const COMMON_VALUES = [
  '-i --inventory --inventory-file',
  '-l --limit',
  '-e --extra-vars',
  '--vault-id',
  '--vault-password-file --vault-pass-file',
];
const COMMON_FLAGS = [
  '-h --help',
  '--version',
  '-v --verbose',
  '--ask-vault-password --ask-vault-pass',
  '--list-hosts',
];
const CONNECT_VALUES = [
  '--private-key --key-file',
  '-u --user',
  '-c --connection',
  '-T --timeout',
  '--ssh-common-args',
  '--sftp-extra-args',
  '--scp-extra-args',
  '--ssh-extra-args',
  '--connection-password-file --conn-pass-file',
  '--become-method',
  '--become-user',
  '--become-password-file --become-pass-file',
  '-f --forks',
  '-M --module-path',
];
const CONNECT_FLAGS = ['-k --ask-pass', '-b --become', '-K --ask-become-pass', '-C --check', '-D --diff'];

const SPECS: Record<AnsibleCommand, { values: string[]; flags: string[] }> = {
  ansible: {
    values: [
      ...COMMON_VALUES,
      ...CONNECT_VALUES,
      '-P --poll',
      '-B --background',
      '-t --tree',
      '--playbook-dir',
      '--task-timeout',
      '-a --args',
      '-m --module-name',
    ],
    flags: [...COMMON_FLAGS, ...CONNECT_FLAGS, '-o --one-line'],
  },
  'ansible-playbook': {
    values: [...COMMON_VALUES, ...CONNECT_VALUES, '-t --tags', '--skip-tags', '--start-at-task'],
    flags: [
      ...COMMON_FLAGS,
      ...CONNECT_FLAGS,
      '--force-handlers',
      '--flush-cache',
      '--syntax-check',
      '--list-tasks',
      '--list-tags',
      '--step',
    ],
  },
  'ansible-inventory': {
    values: [...COMMON_VALUES, '--playbook-dir', '--host', '--output'],
    flags: [...COMMON_FLAGS, '--list', '--graph', '-y --yaml', '--toml', '--vars', '--export'],
  },
  'ansible-console': {
    values: [...COMMON_VALUES, ...CONNECT_VALUES, '--playbook-dir', '--task-timeout'],
    flags: [...COMMON_FLAGS, ...CONNECT_FLAGS, '--step'],
  },
};

const TABLES = new Map<AnsibleCommand, OptionTable>();

function tableFor(command: AnsibleCommand): OptionTable {
  let t = TABLES.get(command);
  if (!t) {
    const values = new Map<string, string>();
    const flags = new Map<string, string>();
    for (const spec of SPECS[command].values) {
      const names = spec.split(' ');
      const canonical = names.find((n) => n.startsWith('--')) ?? names[0];
      for (const n of names) values.set(n, canonical);
    }
    for (const spec of SPECS[command].flags) {
      const names = spec.split(' ');
      const canonical = names.find((n) => n.startsWith('--')) ?? names[0];
      for (const n of names) flags.set(n, canonical);
    }
    t = { values, flags };
    TABLES.set(command, t);
  }
  return t;
}

const LIST_ONLY: Record<string, string> = {
  '--help': 'help only',
  '--version': 'version only',
  '--list-hosts': '--list-hosts lists hosts and connects to none',
  '--syntax-check': '--syntax-check connects to no host',
  '--list-tasks': '--list-tasks connects to no host',
  '--list-tags': '--list-tags connects to no host',
};

export function parseAnsibleArgs(command: AnsibleCommand, argv: readonly string[]): AnsibleArgs {
  const table = tableFor(command);
  const out: AnsibleArgs = { command, inventories: [], playbooks: [], extraVars: [], sshArgs: [], notes: [] };
  const positionals: ArgValue[] = [];

  const take = (canonical: string, value: string, argIndex: number) => {
    const v = { value, argIndex };
    if (canonical === '--inventory') out.inventories.push(v);
    else if (canonical === '--limit') out.limit = v;
    else if (canonical === '--extra-vars') out.extraVars.push(v);
    else if (canonical === '--connection') out.connection = v;
    else if (canonical === '--playbook-dir') out.playbookDir = v;
    else if (canonical === '--ssh-common-args' || canonical === '--ssh-extra-args') out.sshArgs.push(v);
  };
  const flag = (canonical: string) => {
    const why = LIST_ONLY[canonical];
    if (!why) return;
    // ansible-inventory itself reaches nothing: the guard reads it as "the hosts of this inventory"
    // (that is how `guard check --inventory` asks), so only --help/--version make it empty.
    if (command === 'ansible-inventory' && canonical !== '--help' && canonical !== '--version') return;
    out.connectsToNothing ??= why;
  };

  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      for (let j = i + 1; j < argv.length; j++) positionals.push({ value: argv[j], argIndex: j });
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const explicit = eq < 0 ? undefined : arg.slice(eq + 1);
      const resolved = resolveLong(table, name);
      if (resolved.kind === 'ambiguous') {
        out.notes.push(
          `argv[${i}] ${name} is ambiguous (${resolved.matches.join(', ')}): Ansible would refuse the command line`,
        );
        continue;
      }
      if (resolved.kind === 'unknown') {
        out.notes.push(`argv[${i}] ${name} is not an option of ${command}`);
        continue;
      }
      if (resolved.kind === 'flag') {
        flag(resolved.canonical);
        continue;
      }
      if (explicit !== undefined) take(resolved.canonical, explicit, i);
      else if (i + 1 < argv.length) take(resolved.canonical, argv[++i], i);
      else out.notes.push(`argv[${i}] ${name} expects a value`);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-\d+$|^-\d*\.\d+$/.test(arg)) {
      // `-i=x` (Python 3.11 argparse takes the text after '=' as the value).
      const eq = arg.indexOf('=');
      if (eq === 2 && table.values.has(arg.slice(0, 2))) {
        take(table.values.get(arg.slice(0, 2)) as string, arg.slice(3), i);
        continue;
      }
      // A cluster: flags, optionally ending in one value option whose value is the rest (or the next argument).
      for (let k = 1; k < arg.length; k++) {
        const opt = `-${arg[k]}`;
        const valueOpt = table.values.get(opt);
        if (valueOpt) {
          const rest = arg.slice(k + 1);
          if (rest) take(valueOpt, rest, i);
          else if (i + 1 < argv.length) take(valueOpt, argv[++i], i);
          else out.notes.push(`argv[${i}] ${opt} expects a value`);
          break;
        }
        const flagOpt = table.flags.get(opt);
        if (!flagOpt) {
          out.notes.push(`argv[${i}] ${opt} is not an option of ${command}`);
          break;
        }
        flag(flagOpt);
      }
      continue;
    }
    positionals.push({ value: arg, argIndex: i });
  }

  if (command === 'ansible' || command === 'ansible-console') out.pattern = positionals[0];
  if (command === 'ansible-playbook') out.playbooks = positionals;
  return out;
}

type Resolved =
  { kind: 'value' | 'flag'; canonical: string } | { kind: 'ambiguous'; matches: string[] } | { kind: 'unknown' };

/** argparse's long options: exact, or a prefix of exactly one option string. */
function resolveLong(table: OptionTable, name: string): Resolved {
  const exact = table.values.get(name) ?? table.flags.get(name);
  if (exact) return { kind: table.values.has(name) ? 'value' : 'flag', canonical: exact };
  const matches = [...table.values.keys(), ...table.flags.keys()].filter(
    (o) => o.startsWith('--') && o.startsWith(name),
  );
  if (matches.length === 1) {
    const m = matches[0];
    return table.values.has(m)
      ? { kind: 'value', canonical: table.values.get(m) as string }
      : { kind: 'flag', canonical: table.flags.get(m) as string };
  }
  if (matches.length > 1) return { kind: 'ambiguous', matches };
  return { kind: 'unknown' };
}
