/**
 * A small, strict flag parser: every flag is declared with its kind and help text; unknown flags,
 * missing values and values outside their range exit with a message naming the flag.
 */
export type FlagKind = 'number' | 'int' | 'string' | 'bool' | 'list';

export interface FlagSpec {
  kind: FlagKind;
  help: string;
  /** Allowed range for numbers: [min, max] (inclusive) and whether min itself is excluded. */
  range?: [number, number, boolean?];
  /** Allowed values for strings. */
  choices?: string[];
}

export type FlagValues = Record<string, number | string | boolean | number[] | undefined>;

/** Bad input (flags, config, data files): exit status 2, the message without a stack trace. */
export class UsageError extends Error {}

/** A decimal number: digits with an optional sign, fraction and exponent (1, -0.5, .5, 1e-3). */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseFlags(argv: string[], specs: Record<string, FlagSpec>, command: string): { flags: FlagValues; positional: string[] } {
  const flags: FlagValues = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs[name];
    if (!spec) {
      throw new UsageError(`${command}: unknown flag --${name} (flags: ${Object.keys(specs).map((k) => `--${k}`).join(' ')})`);
    }
    if (spec.kind === 'bool') {
      if (eq >= 0) {
        const v = arg.slice(eq + 1);
        if (v !== 'true' && v !== 'false') throw new UsageError(`${command}: --${name} takes no value or =true/=false, got '${v}'`);
        flags[name] = v === 'true';
      } else flags[name] = true;
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`${command}: --${name} needs a value (${spec.help})`);
    flags[name] = parseValue(command, name, spec, raw);
  }
  return { flags, positional };
}

function parseValue(command: string, name: string, spec: FlagSpec, raw: string): number | string | number[] {
  const num = (s: string): number => {
    // Decimal notation only: Number() also reads '0x10' as 16, '0b1', ' 1 ' and ''.
    const v = DECIMAL.test(s) ? Number(s) : NaN;
    if (!Number.isFinite(v)) throw new UsageError(`${command}: --${name} must be a decimal number, got '${s}'`);
    if (spec.kind === 'int' && !Number.isInteger(v)) throw new UsageError(`${command}: --${name} must be an integer, got '${s}'`);
    if (spec.range) {
      const [lo, hi, open] = spec.range;
      if ((open ? v <= lo : v < lo) || v > hi) {
        throw new UsageError(`${command}: --${name} must be in ${open ? '(' : '['}${lo}, ${hi}], got ${v}`);
      }
    }
    return v;
  };
  switch (spec.kind) {
    case 'number':
    case 'int':
      return num(raw);
    case 'list':
      return raw.split(',').map((s) => num(s));
    case 'string':
      if (spec.choices && !spec.choices.includes(raw) && !spec.choices.some((c) => c.endsWith(':') && raw.startsWith(c))) {
        throw new UsageError(`${command}: --${name} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
      }
      return raw;
    default:
      throw new Error(`flag kind ${spec.kind}`);
  }
}

export function helpText(command: string, summary: string, specs: Record<string, FlagSpec>): string {
  const lines = Object.entries(specs).map(([name, s]) => {
    const v = s.kind === 'bool' ? '' : s.choices ? ` <${s.choices.join('|')}>` : ` <${s.kind}>`;
    return `  --${name}${v}\n      ${s.help}${s.range ? ` (range ${s.range[2] ? '(' : '['}${s.range[0]}, ${s.range[1]}])` : ''}`;
  });
  return `${command}: ${summary}\n\nflags:\n${lines.join('\n')}\n`;
}
