/**
 * Every instrument, registered in this order (the order of flags, panels, files and report
 * sections). Adding an instrument is adding its import here — one line; nothing else in the CLI,
 * the dashboard or the report names it.
 */
import './pca-window.ts';
import './fdr.ts';
import './flatness.ts';
import './temperature.ts';
import './temperature-loss.ts';
import './mlf.ts';
import './kernel-timings.ts';
import './grad-noise-scale.ts';
import './gauges.ts';
import './b-noise.ts';
import './edge-of-stability.ts';

export { instruments, instrumentById, withNeeds, registerInstrument, unregisterInstrument } from './registry.ts';
