export { CancelledError, displayCommand, InfraSandboxError, ProcessError, ToolMissingError } from './errors';
export { run, type CommandSpec, type ProcessOutput, type RunOptions } from './runner';
export { installHint } from './tools';
export { which } from './which';
