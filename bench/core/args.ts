/**
 * The benchmark runners' command line (bench/node.ts and bench/headless.ts take the same options).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OPTIONS, SUITES, type BenchOptions, type SuiteName } from '../suite.ts';
import { MATMUL_LADDER, ladderListing } from '../ladder.ts';

const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));

const HELP = `usage: npm run bench -- [options]

  --only a,b        suites to run (${SUITES.join(', ')}); default all
  --skip a,b        suites to leave out
  --variant 0,3     matmul ladder rungs (bench/ladder.ts): ${ladderListing()}
  --validate        correctness checks only, no timing
  --quick           shorter repeats (a smoke run; numbers are noisier)
  --repeats N       timed repeats per measurement (default ${DEFAULT_OPTIONS.repeats})
  --target-ms N     aimed duration of one repeat (default ${DEFAULT_OPTIONS.targetMs})
  --out DIR         results folder (default bench/results)
  --no-write        print only
  --browser         afterwards run the same suite in headless Chromium (bench/headless.ts)
`;

export interface CliArgs {
  opts: Partial<BenchOptions>;
  out: string;
  write: boolean;
  browser: boolean;
}

export function parseArgs(argv: string[]): CliArgs {
  const opts: Partial<BenchOptions> = {};
  let out = join(BENCH, 'results');
  let write = true;
  let browser = false;
  const list = (v: string | undefined, flag: string): string[] => {
    if (!v) throw new Error(`${flag} needs a value`);
    return v.split(',').map((s) => s.trim()).filter(Boolean);
  };
  const suites = (names: string[], flag: string): SuiteName[] => {
    for (const n of names) if (!SUITES.includes(n as SuiteName)) throw new Error(`${flag}: unknown suite '${n}' (suites: ${SUITES.join(', ')})`);
    return names as SuiteName[];
  };
  const num = (v: string | undefined, flag: string, min: number, max: number): number => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < min || x > max) throw new Error(`${flag} must be a number in [${min}, ${max}], got ${v}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--help': case '-h': console.log(HELP); process.exit(0);
      case '--only': opts.suites = suites(list(argv[++i], a), a); break;
      case '--skip': { const skip = suites(list(argv[++i], a), a); opts.suites = (opts.suites ?? [...SUITES]).filter((s) => !skip.includes(s)); break; }
      case '--variant': case '--variants': opts.variants = list(argv[++i], a).map((v) => num(v, a, 0, MATMUL_LADDER.length - 1)); break;
      case '--validate': opts.validateOnly = true; break;
      case '--quick': opts.quick = true; opts.targetMs = 40; opts.repeats = 3; break;
      case '--repeats': opts.repeats = num(argv[++i], a, 1, 100); break;
      case '--target-ms': opts.targetMs = num(argv[++i], a, 1, 10000); break;
      case '--out': out = argv[++i]; break;
      case '--no-write': write = false; break;
      case '--browser': browser = true; break;
      default: throw new Error(`unknown option ${a}\n\n${HELP}`);
    }
  }
  return { opts, out, write, browser };
}
