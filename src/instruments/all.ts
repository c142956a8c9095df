/**
 * Every instrument, registered in this order (the order of flags, panels, files and report
 * sections). Adding an instrument is adding its import here — one line; nothing else in the CLI,
 * the dashboard or the report names it.
 */
import './grad-noise-scale.ts';

export { instruments, instrumentById, withNeeds, registerInstrument, unregisterInstrument } from './registry.ts';
