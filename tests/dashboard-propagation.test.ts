/**
 * The dashboard's "signal propagation at initialisation" panels in headless Chromium (SwiftShader
 * WebGPU): the tanh phase diagram is drawn, a real click on the heat map shows that point's depth
 * scales (equal to meanFieldPoint in Node for the same σ_w², σ_b²), the worker measures q^l and c^l
 * of random networks at that point on the GPU and the measured curves are drawn; then the Jacobian
 * spectra (both weight ensembles) and the curve length at the same point are measured and drawn in
 * their three panels; no console error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveBuiltSite, type ServedPage } from './helpers/browser.ts';
import { meanFieldPoint } from '../src/analysis/meanfield/depth-scales.ts';
import { tanh } from '../src/analysis/meanfield/activations.ts';
import { LIVE_PROPAGATION, type PropagationProbe } from '../src/ui/propagation.ts';
import { LIVE_INIT } from '../src/experiments/propagation/init-live.ts';

let site: ServedPage;

beforeAll(async () => {
  site = await serveBuiltSite();
}, 120_000);

afterAll(async () => {
  await site?.close();
});

const probeOf = (): PropagationProbe => (window as unknown as { sgdscope: { propagation: PropagationProbe } }).sgdscope.propagation;

describe('the signal-propagation panels of the dashboard', () => {
  it('draws the phase diagram; a click shows the depth scales and the measured q^l, c^l', async () => {
    const page = await site.browser.newPage({ viewport: { width: 1500, height: 1300 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(site.url);
    await page.waitForFunction(`(${probeOf.toString()})()?.phaseReady === true`, undefined, { timeout: 90_000, polling: 200 });
    const over = page.locator('#panel-phase .u-over');
    const box = await over.boundingBox();
    expect(box).not.toBeNull();
    // Right of the middle, upper part of the map: somewhere in σ_w² ∈ (0.5, 4.5), σ_b² ∈ (0, 0.3).
    await over.click({ position: { x: box!.width * 0.3, y: box!.height * 0.3 } });
    await page.waitForFunction(`(${probeOf.toString()})()?.point !== null`, undefined, { timeout: 60_000 });
    const { point, text } = (await page.evaluate(`(${probeOf.toString()})()`)) as PropagationProbe;
    const mf = meanFieldPoint(tanh, point!.sw2, point!.sb2);
    for (const k of ['qStar', 'chi1', 'cStar', 'xiQ', 'xiC', 'xiGrad'] as const) {
      if (Number.isFinite(mf[k])) expect(point![k], k).toBeCloseTo(mf[k], 10);
      else expect(point![k], k).toBe(mf[k]);
    }
    expect(point!.phase).toBe(mf.phase);
    expect(await page.textContent('#phase-point')).toBe(text);
    expect(text).toContain(`σ_w² = ${point!.sw2}, σ_b² = ${point!.sb2}: ${mf.phase}`);
    expect(text).toContain(`χ1 = ${mf.chi1.toPrecision(4)}`);

    // The measurement on the GPU: every layer's measured q^l and both pairs' c^l drawn.
    await page.waitForFunction(`(${probeOf.toString()})()?.results >= 1`, undefined, { timeout: 120_000, polling: 200 });
    const p = (await page.evaluate(`(${probeOf.toString()})()`)) as PropagationProbe;
    console.log(`clicked σ_w² = ${point!.sw2}, σ_b² = ${point!.sb2} (${mf.phase}); GPU ${p.seconds?.toFixed(2)} s; ${text}`);
    expect(p.error).toBeNull();
    expect(p.measured).toEqual({ q: LIVE_PROPAGATION.depth, c: 2 * LIVE_PROPAGATION.depth });
    await page.waitForFunction(() => document.querySelector('#panel-propagation-c')?.getAttribute('data-points') === '30', undefined, { timeout: 60_000 });
    expect(await page.getAttribute('#panel-propagation-q', 'data-points')).toBe(String(LIVE_PROPAGATION.depth));

    // Jacobian spectra and curve length at the same point (issue 12): three panels drawn.
    await page.waitForFunction(`(${probeOf.toString()})()?.spectra.results >= 1 || (${probeOf.toString()})()?.spectra.error !== null`, undefined, { timeout: 240_000, polling: 250 });
    const sp = ((await page.evaluate(`(${probeOf.toString()})()`)) as PropagationProbe).spectra;
    console.log(`Jacobian spectra and curve length: ${sp.seconds?.toFixed(1)} s; ${sp.verdicts.join(' | ')}`);
    expect(sp.error).toBeNull();
    expect(sp.verdicts).toHaveLength(3);
    expect(sp.verdicts[0]).toMatch(/^gaussian: (KS D = |all s² at )/);
    const drawn = mf.qStar > 0 ? ['live-jacobian-density', 'live-jacobian-depth', 'live-curve-length'] : ['live-jacobian-density', 'live-jacobian-depth'];
    expect(sp.charts).toEqual(drawn);
    // the depth panel: a column per layer 0 … L
    await page.waitForFunction(() => Number(document.querySelector('#panel-init-depth')?.getAttribute('data-points')) > 0, undefined, { timeout: 60_000 });
    expect(Number(await page.getAttribute('#panel-init-depth', 'data-points'))).toBe(LIVE_INIT.depth + 1);
    expect(problems).toEqual([]);
    await page.close();
  }, 420_000);
});
