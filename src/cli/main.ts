/**
 * sgdscope command line. Subcommands:
 *   train      train an MLP with SGD on the GPU, write a run folder
 *   info       show the WebGPU adapter sgdscope finds
 */
import { trainCommand } from './train.ts';
import { infoCommand } from './info.ts';
import { UsageError } from './args.ts';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  train: { run: trainCommand, help: 'train an MLP with SGD on the GPU and write a run folder' },
  info: { run: infoCommand, help: 'show the WebGPU adapter and its limits' },
};

function usage(): string {
  return `usage: sgdscope <command> [flags]\n\ncommands:\n${Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`)
    .join('\n')}\n\nsgdscope <command> --help shows a command's flags.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage());
    return cmd ? 0 : 2;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`sgdscope: unknown command '${cmd}'\n\n${usage()}`);
    return 2;
  }
  return c.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`sgdscope: ${(e as Error).message ?? e}\n`);
      if (process.env.SGDSCOPE_DEBUG) console.error(e);
      process.exitCode = 1;
    }
  },
);
