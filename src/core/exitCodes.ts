/** Exit codes of the `infra-sandbox` CLI (SPEC §4). */
export const ExitCode = {
  ok: 0,
  gateFailed: 1,
  usage: 2,
  blocked: 3,
  toolMissing: 4,
  cancelled: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
