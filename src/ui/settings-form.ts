/**
 * The settings form ⇄ the URL. The base fields (data, model, training) are in index.html; the
 * ensemble's (ensemble-settings.ts) are generated from their declaration into the training
 * fieldset, and one fieldset per instrument from the registry (an on/off box named by its id,
 * then a field per setting with its label, help and error line). Every change is parsed and validated
 * with the engine's messages (run-settings.ts), each under its field, and the URL is updated to
 * hold what differs from the defaults.
 */
import {
  KNOWN_TRAIN_SIZE,
  defaultSettings,
  formatField,
  instrumentFields,
  parseField,
  settingKeys,
  settingsToQuery,
  validateSettings,
  type DashSettings,
  type FieldErrors,
} from '../experiments/dashboard/run-settings.ts';
import { ENSEMBLE_SETTINGS } from '../experiments/dashboard/ensemble-settings.ts';
import type { SettingSpec } from '../instruments/settings.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

function field(key: string, label: string, input: HTMLElement, hint: string | null): HTMLElement {
  const div = document.createElement('div');
  div.className = 'field';
  const lab = document.createElement('label');
  lab.htmlFor = key;
  lab.textContent = label;
  const err = document.createElement('small');
  err.className = 'err';
  err.id = `err-${key}`;
  div.append(lab, input, err);
  if (hint) {
    const h = document.createElement('span');
    h.className = 'hint';
    h.textContent = hint;
    div.append(h);
  }
  return div;
}

/** The instruments' fieldsets, into `container`. */
export function buildInstrumentFields(container: HTMLElement): void {
  let fs: HTMLFieldSetElement | null = null;
  for (const [key, f] of instrumentFields()) {
    if (!f.spec) {
      fs = document.createElement('fieldset');
      const legend = document.createElement('legend');
      const lab = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = key;
      lab.append(box, ` ${f.def.title}`);
      lab.title = f.def.about;
      const err = document.createElement('small');
      err.className = 'err';
      err.id = `err-${key}`;
      legend.append(lab);
      fs.append(legend, err);
      container.append(fs);
      continue;
    }
    fs!.append(specField(key, f.key!, f.spec));
  }
}

/** The form field of a declared setting: its input, label, error line and help. */
function specField(key: string, name: string, s: SettingSpec): HTMLElement {
  let input: HTMLInputElement | HTMLSelectElement;
  if (s.type === 'choice') {
    input = document.createElement('select');
    for (const c of s.choices ?? []) input.append(new Option(c, c));
  } else {
    input = document.createElement('input');
    input.type = s.type === 'bool' ? 'checkbox' : s.aliases ? 'text' : 'number';
    if (s.type === 'int') input.step = '1';
    if (s.type === 'number') input.step = 'any';
  }
  input.id = key;
  return field(key, s.label ?? name, input, s.help);
}

/** The ensemble's fields (replicas), into `container`. */
export function buildEnsembleFields(container: HTMLElement): void {
  for (const [key, spec] of Object.entries(ENSEMBLE_SETTINGS)) container.append(specField(key, key, spec));
}

export class SettingsForm {
  current: DashSettings;
  errors: FieldErrors = {};
  files: File[] = [];
  private readonly keys = settingKeys();

  constructor(initial: DashSettings) {
    this.current = initial;
    this.write(initial);
  }

  private input(k: string): HTMLInputElement | HTMLSelectElement {
    return $(k);
  }

  write(s: DashSettings): void {
    for (const k of this.keys) {
      const el = this.input(k);
      if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = s[k] as boolean;
      else el.value = formatField(k, s[k]);
    }
  }

  private read(): { s: DashSettings; syntax: FieldErrors } {
    const s = defaultSettings();
    const syntax: FieldErrors = {};
    for (const k of this.keys) {
      const el = this.input(k);
      try {
        s[k] = parseField(k, el instanceof HTMLInputElement && el.type === 'checkbox' ? String(el.checked) : el.value);
      } catch (e) {
        syntax[k] = (e as Error).message;
      }
    }
    return { s, syntax };
  }

  /** Reads, validates and shows every message; updates the URL. True when the files are missing. */
  validate(): boolean {
    const { s, syntax } = this.read();
    this.current = s;
    this.errors = { ...validateSettings(s, KNOWN_TRAIN_SIZE[s.dataset]), ...syntax };
    for (const k of this.keys) {
      const msg = this.errors[k] ?? '';
      $(`err-${k}`).textContent = msg;
      this.input(k).setAttribute('aria-invalid', msg ? 'true' : 'false');
    }
    const normal = s.init === 'normal';
    (this.input('sigma-w') as HTMLInputElement).disabled = !normal;
    (this.input('sigma-b') as HTMLInputElement).disabled = !normal;
    $('files-field').hidden = s.dataset === 'mnist10k';
    const fileMsg = s.dataset === 'idx' && this.files.length === 0 ? 'choose the four IDX files' : '';
    $('err-files').textContent = fileMsg;
    $('files-hint').textContent =
      s.dataset === 'fashion'
        ? 'optional: the four Fashion-MNIST IDX files; without them the page asks its server for /usr/share/datasets/fashion-mnist (npm run dev)'
        : 'the four files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (plain or .gz)';
    const q = settingsToQuery(s);
    history.replaceState(null, '', q ? `?${q}` : location.pathname);
    return fileMsg !== '';
  }
}
