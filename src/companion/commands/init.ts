import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { CONFIG_FILE_NAME } from '../../core/config';
import { writeStarterConfig } from '../../core/config/starter';
import { printJson, type GlobalOptions } from '../context';
import { templatesDir } from '../paths';

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description(`Write a starter ${CONFIG_FILE_NAME} into a folder (default: the current one). Never overwrites.`)
    .argument('[dir]', 'workspace folder', '.')
    .action(async (dir: string, _opts: object, cmd: Command) => {
      const options = cmd.optsWithGlobals<GlobalOptions>();
      const target = join(resolve(dir), CONFIG_FILE_NAME);
      const written = await writeStarterConfig(templatesDir(), target);
      if (options.json) printJson({ file: target, written });
      else process.stdout.write(`${written ? 'wrote' : 'kept the existing'} ${target}\n`);
    });
}
