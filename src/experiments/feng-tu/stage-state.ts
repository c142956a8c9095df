/**
 * What each finished analysis stage left in a FengTuResult, as a plain value and back, so that a
 * resumed run takes the stages an earlier attempt completed and runs only the ones that are
 * missing or failed (the CLI keeps the state in the run folder's analysis-state.json, rewritten
 * after every stage, beside the end-of-training checkpoint).
 *
 * Exact JSON (src/util/exact-json.ts) keeps typed arrays and non-finite numbers bit for bit, so the
 * files a resumed run writes from restored stages are byte-identical to an unbroken run's. The
 * state names the window it belongs to (the training's last step, T, P, k); a state of another
 * window is refused, never mixed in.
 */
import { decodeExactJson, encodeExactJson } from '../../util/exact-json.ts';
import { ANALYSIS_STAGES, type Stage } from './options.ts';
import type { FengTuResult, StageRecord } from './run.ts';

export type AnalysisStage = Exclude<Stage, 'train'>;

/** The result fields each stage sets (the derived summary is recomputed from pca and pca-detrended). */
const FIELDS: Record<AnalysisStage, (keyof FengTuResult)[]> = {
  pca: ['pca', 'scatter'],
  'pca-detrended': ['pcaDetrended'],
  flatness: ['flatness', 'L0'],
  fit: ['fitDetail', 'fit', 'fitError'],
  temperature: ['temperatures', 'anisotropy', 'tempVsFlatness'],
  'temperature-vs-loss': ['temperatureVsLoss', 'temperatureLossCorrelation'],
  mlf: ['mlf'],
};

export interface SavedStage {
  record: StageRecord;
  value: Record<string, unknown>;
}

/** Which window a state belongs to. */
export interface WindowKey {
  steps: number;
  T: number;
  P: number;
  k: number;
}

export interface AnalysisState {
  window: WindowKey;
  stages: Partial<Record<AnalysisStage, SavedStage>>;
}

export function windowKey(r: Pick<FengTuResult, 'run' | 'window' | 'P' | 'options'>): WindowKey {
  return { steps: r.run.steps, T: r.window.T, P: r.P, k: r.options.k as number };
}

/** The stages of `r` that are done, as a state. */
export function captureAnalysisState(r: FengTuResult): AnalysisState {
  const stages: AnalysisState['stages'] = {};
  for (const name of ANALYSIS_STAGES) {
    const record = r.stages[name];
    if (record?.status !== 'done') continue;
    const value: Record<string, unknown> = {};
    for (const f of FIELDS[name]) value[f] = r[f];
    const { resumed: _r, ...plain } = record;
    void _r;
    stages[name] = { record: plain, value };
  }
  return { window: windowKey(r), stages };
}

/** Puts a saved stage's fields back into `r` (marked resumed); the caller recomputes the summary. */
export function applySavedStage(r: FengTuResult, name: AnalysisStage, saved: SavedStage): void {
  const target = r as unknown as Record<string, unknown>;
  for (const f of FIELDS[name]) target[f] = saved.value[f];
  r.stages[name] = { ...saved.record, resumed: true };
  r.timings[name] = saved.record.seconds;
}

export function encodeAnalysisState(s: AnalysisState): string {
  return encodeExactJson(s);
}

/** Reads a state; throws naming `where` when it is not one, or belongs to another window than `key`. */
export function decodeAnalysisState(text: string, where: string, key: WindowKey): AnalysisState {
  let s: AnalysisState;
  try {
    s = decodeExactJson<AnalysisState>(text);
  } catch (e) {
    throw new Error(`${where}: not an analysis state (${(e as Error).message})`);
  }
  const w = s?.window;
  if (!w || typeof s.stages !== 'object' || s.stages === null) throw new Error(`${where}: not an analysis state (no window or stages)`);
  if (w.steps !== key.steps || w.T !== key.T || w.P !== key.P || w.k !== key.k) {
    throw new Error(`${where}: its stages belong to another window (step ${w.steps}, T ${w.T}, P ${w.P}, k ${w.k}; this run: step ${key.steps}, T ${key.T}, P ${key.P}, k ${key.k})`);
  }
  for (const name of Object.keys(s.stages)) {
    if (!(ANALYSIS_STAGES as string[]).includes(name)) throw new Error(`${where}: unknown stage '${name}'`);
    if (s.stages[name as AnalysisStage]?.record?.status !== 'done') throw new Error(`${where}: stage '${name}' is not a finished one`);
  }
  return s;
}
