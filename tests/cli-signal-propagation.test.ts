/**
 * `sgdscope reproduce signal-propagation` as a user runs it, at a tiny scale: the run folder has
 * every file with the documented shapes, the printed critical σ_w² table matches the independent
 * scipy values, the report is self-contained; bad flags exit with status 2 naming the flag.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy } from '../src/util/npy.ts';
import { resolveSignalPropagationOptions, SIGNAL_PROPAGATION_FLAGS } from '../src/cli/reproduce-signal-propagation.ts';
import { parseFlags, UsageError } from '../src/cli/args.ts';

const ROOT = join(import.meta.dirname, '..');

function sgdscope(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('sgdscope reproduce signal-propagation', () => {
  it('writes the run folder and prints the critical σ_w² and ξ_c tables', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sgdscope-sp-')), 'run');
    const r = sgdscope([
      'reproduce', 'signal-propagation', '--quiet', '--out', out,
      '--phase-sw2', '0.5,4.5,5', '--phase-sb2', '0,0.2,3',
      '--width', '64', '--depth', '6', '--nets', '2', '--inputs', '3', '--prop-sw2', '1.2,crit,3',
      '--train-sw2', '1,2', '--train-depths', '2,3', '--train-width', '16', '--steps', '10', '--batch', '32',
      '--jac-width', '24', '--jac-depth', '3', '--jac-nets', '2', '--jac-points', 'tanh:gaussian:crit:0.05,linear:orthogonal:1:0',
      '--curve-width', '32', '--curve-depth', '4', '--curve-points', '8', '--curve-nets', '2', '--curve-sw2', '1.3,3',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // critical σ_w² (tanh) against crosscheck.py's scipy values, as printed (10 digits)
    const ref: [number, number][] = [[0.01, 1.4242052904886], [0.05, 1.76095463960674], [0.1, 1.98607264113586], [0.2, 2.28515247372019]];
    for (const [sb2, sw2] of ref) {
      const m = new RegExp(`^  ${sb2}\\s+([0-9.]+)$`, 'm').exec(r.stdout);
      expect(m, `row σ_b² = ${sb2} in\n${r.stdout}`).not.toBeNull();
      expect(Math.abs(Number(m![1]) - sw2) / sw2).toBeLessThan(1e-8);
    }
    expect(r.stdout).toMatch(/1\.50 {2}0\.05 {2}ordered .* 15\.790994/);
    expect(r.stdout).toMatch(/propagation σ_w² = 1\.2.*q (agrees|DISAGREES)/);
    const files = readdirSync(out).sort();
    expect(files).toEqual([
      'charts.json', 'critical_line.csv', 'curve_1_lengths.npy', 'curve_2_lengths.npy', 'curve_length.csv',
      'jacobian_1_eigenvalues.npy', 'jacobian_1_theory.csv', 'jacobian_2_eigenvalues.npy', 'jacobian_depth.csv', 'jacobian_spectra.csv',
      'phase_c_star.npy', 'phase_chi1.npy', 'phase_diagram.csv', 'phase_q_star.npy', 'phase_sb2.npy', 'phase_sw2.npy', 'phase_xi_c.npy',
      'propagation_1_delta2.npy', 'propagation_1_gram.npy', 'propagation_2_delta2.npy', 'propagation_2_gram.npy', 'propagation_3_delta2.npy', 'propagation_3_gram.npy',
      'propagation_curves.csv', 'propagation_inputs.npy', 'report.html', 'result.json', 'six_xi_c.csv', 'summary.json',
      'trainability.csv', 'trainability_depths.npy', 'trainability_sw2.npy', 'trainability_test_accuracy.npy', 'trainability_train_accuracy.npy',
    ]);
    expect(decodeNpy(readFileSync(join(out, 'phase_chi1.npy'))).shape).toEqual([3, 5]);
    expect(decodeNpy(readFileSync(join(out, 'propagation_2_gram.npy'))).shape).toEqual([6, 2, 4, 4]); // 3 digits + twin
    expect(decodeNpy(readFileSync(join(out, 'trainability_train_accuracy.npy'))).shape).toEqual([2, 2]);
    expect(decodeNpy(readFileSync(join(out, 'jacobian_1_eigenvalues.npy'))).shape).toEqual([2, 24]);
    expect(decodeNpy(readFileSync(join(out, 'curve_2_lengths.npy'))).shape).toEqual([5, 2]);
    expect(readFileSync(join(out, 'jacobian_spectra.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(readFileSync(join(out, 'curve_length.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 2 * 5);
    expect(r.stdout).toMatch(/jacobian tanh, Gaussian, σ_w² = 1\.761, σ_b² = 0\.05, L = 3: KS D = /);
    expect(r.stdout).toMatch(/jacobian linear, orthogonal, σ_w² = 1, σ_b² = 0, L = 3: max \|λ\/1\.000 − 1\| = /);
    expect(r.stdout).toMatch(/curve length σ_w² = 3 \(chaotic\): rate /);
    const charts = JSON.parse(readFileSync(join(out, 'charts.json'), 'utf8')) as { id: string }[];
    expect(charts.map((c) => c.id)).toEqual(expect.arrayContaining(['phase-chi1', 'jacobian1-density', 'jacobian1-depth', 'jacobian2-density', 'curve-length', 'trainability-train']));
    const pd = readFileSync(join(out, 'phase_diagram.csv'), 'utf8').trim().split('\n');
    expect(pd[0]).toBe('sw2,sb2,q_star,c_star,chi1,xi_c,phase');
    expect(pd).toHaveLength(16);
    const curves = readFileSync(join(out, 'propagation_curves.csv'), 'utf8').trim().split('\n');
    expect(curves[0]).toBe('point,sw2,sb2,phase,layer,quantity,a,b,measured,se,theory,z,nets,width');
    expect(curves).toHaveLength(1 + 3 * 6 * (4 + 6 + 4)); // points × layers × (q per input + c per pair + gradient per input)
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.criticalSigmaW2.map((p: { sb2: number }) => p.sb2)).toEqual([0, 0.01, 0.05, 0.1, 0.2]);
    expect(summary.xiC).toHaveLength(8);
    expect(summary.propagation[1].phase).toBe('critical');
    expect(summary.trainability.cells).toHaveLength(4);
    expect(Object.keys(summary.timings)).toEqual(expect.arrayContaining(['phase diagram', 'propagation 1', 'trainability']));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/<script>[^]*uPlot/);
    expect(html).toContain('function heatmapPlot');
    expect(html).not.toMatch(/<script[^>]+src=/); // self-contained
  }, 240_000);

  it('refuses bad flags with status 2, naming them', () => {
    const r = sgdscope(['reproduce', 'signal-propagation', '--width', '0']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--width must be in \[1, 16384\], got 0/);
    // the rest in-process: the same parser and resolver the command uses
    const cases: [string[], RegExp][] = [
      [['--phase-sw2', '1,2'], /--phase-sw2 takes min,max,count/],
      [['--phase-sb2', '0.3,0.1,5'], /--phase-sb2 needs 0 ≤ min < max/],
      [['--train-depths', '8,4'], /--train-depths must be strictly ascending/],
      [['--train-sw2', '0,1'], /--train-sw2 values must be in \(0, 10000\]/],
      [['--prop-sw2', '1,abc'], /--prop-sw2 entries must be numbers in \(0, 10000\] or 'crit' .*got 'abc'/],
      [['--twin', '0.9', '--inputs', '1'], /--twin needs --inputs ≥ 2/],
      [['--activation', 'erf'], /--activation must be one of tanh, relu/],
      [['--nets', '65'], /--nets must be in \[1, 64\], got 65/],
      [['--colour', 'red'], /unknown flag --colour/],
      [['--jac-points', 'tanh:gaussian:1'], /--jac-points entries are activation:weights:sw2:sb2 .* needs 4 fields/],
      [['--jac-points', 'relu:gaussian:crit:0'], /sw2 'crit' is for tanh/],
      [['--jac-points', 'tanh:unitary:1:0'], /weights must be gaussian or orthogonal, got 'unitary'/],
      [['--curve-sw2', '1,-2'], /--curve-sw2 entries must be numbers in \(0, 10000\] or 'crit' .*got '-2'/],
      [['--jac-width', '5000'], /--jac-width must be in \[1, 4096\], got 5000/],
      // numbers inside string flags are decimal only, like every flag number
      [['--curve-sw2', '0x10'], /--curve-sw2 entries must be numbers .* got '0x10'/],
      [['--prop-sw2', '1,１'], /--prop-sw2 entries must be numbers .* got '１'/],
      [['--jac-points', 'tanh:gaussian:0b1:0'], /sw2 must be a decimal number in \(0, 10000\] or 'crit', got '0b1'/],
      [['--jac-points', 'tanh:gaussian:1: 1'], /sb2 must be a decimal number in \[0, 100\], got ' 1'/],
    ];
    for (const [args, msg] of cases) {
      let err: unknown = null;
      try {
        resolveSignalPropagationOptions(parseFlags(args, SIGNAL_PROPAGATION_FLAGS, 'sgdscope reproduce signal-propagation').flags);
      } catch (e) {
        err = e;
      }
      expect(err, args.join(' ')).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(msg);
    }
  }, 60_000);

  it('--paper selects the paper-scale grid; explicit flags still win', () => {
    const o = resolveSignalPropagationOptions(parseFlags(['--paper', '--steps', '50'], SIGNAL_PROPAGATION_FLAGS, 'x').flags);
    expect(o.trainability!.width).toBe(300);
    expect(o.trainability!.depths.at(-1)).toBe(300);
    expect(o.trainability!.steps).toBe(50);
    expect(o.propagation!.width).toBe(2048);
    const d = resolveSignalPropagationOptions({});
    expect(d.trainability!.depths).toEqual([2, 4, 8, 16, 32]);
    expect(d.propagation!.sw2).toEqual([1.3, null, 3]);
    expect(d.jacobian!.points).toHaveLength(8);
    expect(d.curve!.sw2).toEqual([1.3, null, 3]);
    expect(o.jacobian!.width).toBe(1024);
    const skip = resolveSignalPropagationOptions(parseFlags(['--skip-jacobian', '--skip-curve'], SIGNAL_PROPAGATION_FLAGS, 'x').flags);
    expect(skip.jacobian).toBeNull();
    expect(skip.curve).toBeNull();
  });
});
