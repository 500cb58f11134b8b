import { join } from 'node:path';

/** `templates/` of the installed package: dist/cli.js sits one level below the package root. */
export function templatesDir(): string {
  return join(__dirname, '..', 'templates');
}
