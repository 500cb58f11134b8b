import { type Command } from 'commander';
import { InfraSandboxError } from '../../core/exec';
import { ExitCode } from '../../core/exitCodes';
import type { OperationInfo } from '../../protocol/companion';
import { printJson, type GlobalOptions } from '../context';

interface OpsOptions {
  cancel?: string;
  finished: string;
}

export function registerOpsCommand(program: Command): void {
  program
    .command('ops')
    .description('Running, queued and recent operations of the companion; --cancel stops one.')
    .option('--cancel <id>', 'cancel this operation (queued: at once; running: it stops and is recorded as cancelled)')
    .option('--finished <n>', 'how many finished operations to list', '10')
    .action(async (opts: OpsOptions, cmd: Command) => {
      const json = cmd.optsWithGlobals<GlobalOptions>().json === true;
      const finished = Number(opts.finished);
      if (!Number.isInteger(finished) || finished < 0) {
        throw new InfraSandboxError(`--finished must be a whole number (got ${opts.finished})`, ExitCode.usage);
      }
      // Loaded here, not at start-up: other commands need neither the WebSocket nor JSON-RPC.
      const [{ connectCompanion }, { CancelOperation, ListOperations }, { ResponseError }] = await Promise.all([
        import('../client'),
        import('../../protocol/companion'),
        import('vscode-jsonrpc/node'),
      ]);
      const connection = await connectCompanion({ timeoutMs: 2000 });
      if (!connection) {
        if (json) printJson({ companion: null, operations: [] });
        else process.stdout.write('infra-sandbox: no companion is running, so there are no operations\n');
        return;
      }
      const companion = { pid: connection.info.pid, port: connection.info.port, version: connection.info.version };
      try {
        if (opts.cancel !== undefined) {
          const op = await connection.sendRequest(CancelOperation, { id: opts.cancel }).catch((err: unknown) => {
            if (err instanceof ResponseError) throw new InfraSandboxError(err.message, ExitCode.usage);
            throw err;
          });
          if (json) printJson({ companion, operation: op });
          else process.stdout.write(`${cancelLine(op)}\n`);
          return;
        }
        const ops = await connection.sendRequest(ListOperations, { finished });
        if (json) printJson({ companion, operations: ops });
        else process.stdout.write(formatOperations(ops, companion));
      } finally {
        await connection.close();
      }
    });
}

function cancelLine(op: OperationInfo): string {
  if (op.state === 'running') return `cancelling ${op.id} (${op.kind} ${op.key}); it stops at its next step`;
  return `${op.id} (${op.kind} ${op.key}) is ${op.state}`;
}

/** A table: active operations first (as the companion lists them), then the recent finished ones. */
export function formatOperations(ops: OperationInfo[], companion: { pid: number; port: number }): string {
  const head = `companion pid ${companion.pid}, 127.0.0.1:${companion.port}`;
  if (ops.length === 0) return `no operations (${head})\n`;
  const rows = ops.map((op) => [
    op.id,
    op.kind,
    op.key,
    op.state,
    op.origin ?? '',
    shortTime(op.startedAt ?? op.queuedAt),
    [op.fraction !== undefined ? `${Math.round(op.fraction * 100)}%` : '', op.error ?? op.message ?? '']
      .filter(Boolean)
      .join(' '),
  ]);
  const header = ['ID', 'KIND', 'KEY', 'STATE', 'ORIGIN', 'SINCE', 'MESSAGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n(${head})\n`;
}

function shortTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toTimeString().slice(0, 8);
  return today ? time : `${d.toISOString().slice(0, 10)} ${time}`;
}
