/**
 * sgdscope command line. Subcommands:
 *   train      train an MLP with SGD on the GPU, write a run folder
 *   info       show the WebGPU adapter sgdscope finds
 *   hessian    Hessian spectrum, density, trace and gradient-noise covariance of a trained MLP
 *   sweep      train a grid of runs and report sharpness, gap, ‖w‖ and divergence
 *   reproduce  reproduce a paper's experiment end to end (feng-tu, signal-propagation, awd, toy-landscape, batch-increase)
 *   worker     train the runs of a job queue (the multi-run commands' --queue) on this GPU
 */
import { trainCommand } from './train.ts';
import { infoCommand } from './info.ts';
import { hessianCommand } from './hessian.ts';
import { reproduceCommand } from './reproduce.ts';
import { signalPropagationCommand, SIGNAL_PROPAGATION_SUMMARY } from './reproduce-signal-propagation.ts';
import { sweepCommand } from './sweep.ts';
import { workerCommand } from './worker.ts';
import { UsageError } from './args.ts';
import { EXIT } from './exit-codes.ts';
import { AlreadyComplete } from '../util/run-dir.ts';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  train: { run: trainCommand, help: 'train an MLP with SGD on the GPU and write a run folder' },
  info: { run: infoCommand, help: 'show the WebGPU adapter and its limits' },
  hessian: { run: hessianCommand, help: 'Hessian of a trained MLP (exact GPU products): top-k, SLQ density, trace, outliers, noise vs curvature' },
  sweep: { run: sweepCommand, help: 'train a grid of runs (lr, batch, weight decay, dropout, seed): sharpness, gap, ‖w‖, divergence; report' },
  reproduce: { run: reproduce, help: 'reproduce a paper\'s experiment (feng-tu, signal-propagation, awd, toy-landscape, batch-increase) and write a run folder with a report' },
  worker: { run: workerCommand, help: 'train the runs of a job queue (sweep, reproduce … --queue) on this GPU; write their run folders into a shared store' },
};

/** `reproduce <experiment>`: signal-propagation (reproduce-signal-propagation.ts); the others in reproduce.ts. */
async function reproduce(argv: string[]): Promise<number> {
  if (argv[0] === 'signal-propagation') return signalPropagationCommand(argv.slice(1));
  const code = await reproduceCommand(argv);
  if (!argv[0] || argv[0] === '--help' || argv[0] === 'help') process.stdout.write(`  signal-propagation  ${SIGNAL_PROPAGATION_SUMMARY}\n`);
  return code;
}

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
    if (e instanceof AlreadyComplete) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = EXIT.ok;
    } else if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = EXIT.badInput;
    } else {
      process.stderr.write(`sgdscope: ${(e as Error)?.message ?? e}\n`);
      if (process.env.SGDSCOPE_DEBUG) console.error(e);
      process.exitCode = EXIT.internal;
    }
  },
);
