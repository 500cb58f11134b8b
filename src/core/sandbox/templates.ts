import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InfraSandboxError } from '../exec';
import { ExitCode } from '../exitCodes';

/** Environment variable pointing at another templates folder (tests, packagers). */
export const TEMPLATES_ENV = 'INFRA_SANDBOX_TEMPLATES';

/**
 * The templates shipped with the product: `templates/` beside the bundle (dist/../templates) or the
 * repository root when running from sources; `$INFRA_SANDBOX_TEMPLATES` wins.
 */
export function builtinTemplatesDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[TEMPLATES_ENV]) return resolve(env[TEMPLATES_ENV]);
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'templates');
    if (existsSync(join(candidate, 'config', 'infra-sandbox.yaml'))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`the templates folder was not found above ${__dirname}`);
    dir = up;
  }
}

/**
 * The folder of a sandbox template: `k3d/fast` (shipped), or a path relative to the workspace
 * (`./sandboxes/my-stack`) or absolute. A template that does not exist is bad input (exit 2).
 */
export function resolveTemplate(template: string, root: string, env: NodeJS.ProcessEnv = process.env): string {
  const local = isAbsolute(template) ? template : resolve(root, template);
  const isLocal = template.startsWith('.') || isAbsolute(template);
  const dir = isLocal ? local : join(builtinTemplatesDir(env), template);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InfraSandboxError(
      `template ${JSON.stringify(template)} not found (looked in ${dir}). Shipped templates: k3d/fast, compose/local-stack, compose/nodes, multipass/three-node; a workspace template is a path starting with ./`,
      ExitCode.usage,
    );
  }
  return dir;
}
