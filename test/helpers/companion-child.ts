// A real companion process for the tests that need one to kill (SIGKILL, SIGTERM): the server of
// `infra-sandbox serve` plus a test-only operation kind, `test.long`, which runs until cancelled
// (or for params.ms milliseconds). Run with `node --import tsx test/helpers/companion-child.ts`;
// the runtime and state folders come from INFRA_SANDBOX_RUNTIME_DIR / INFRA_SANDBOX_STATE_DIR.
// Prints `ready PORT` on stdout once it listens.
import { startCompanion } from '../../src/companion/server';

async function main(): Promise<void> {
  const companion = await startCompanion({
    idleTimeoutMs: 0,
    handleSignals: true,
    shutdownTimeoutMs: 2000,
    operations: (manager) =>
      manager.register('test.long', async (ctx) => {
        const ms = (ctx.params as { ms?: number } | undefined)?.ms ?? 600_000;
        ctx.progress('working', 0);
        ctx.log(`test.long ${ctx.key} started`);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(ctx.signal.reason);
          });
        });
        return { slept: ms };
      }),
  });
  process.stdout.write(`ready ${companion.port}\n`);
  await companion.done;
  process.exit(0);
}

void main().catch((err: unknown) => {
  process.stderr.write(`companion-child: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
