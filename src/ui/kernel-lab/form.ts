/**
 * The lab's left column: the problem and its sizes, the kernel to start from, the kernel's entry
 * point, template keys, overrides and grid (drawn from the engine's reflection of the text), and
 * what to compare with. It edits the page's LabSpec in place and says when something changed.
 */
import { PROBLEMS, PROBLEM_IDS, checkParams, defaultParams, type Problem, type ProblemId } from '../../kernel-lab/catalog.ts';
import type { Inspection, LabSpec } from '../../kernel-lab/protocol.ts';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function field(label: string, input: HTMLElement, id: string): HTMLDivElement {
  const d = el('div', { class: 'field' });
  input.id = id;
  d.append(el('label', { for: id }, label), input);
  return d;
}

export class LabForm {
  /** Why the sizes are not valid (null: they are). */
  paramError: string | null = null;
  private drawn: ProblemId | null = null;

  constructor(readonly spec: LabSpec, private readonly changed: () => void) {
    const sel = $<HTMLSelectElement>('problem');
    for (const id of PROBLEM_IDS) sel.append(el('option', { value: id }, PROBLEMS[id].title));
    sel.addEventListener('change', () => {
      spec.problem = sel.value as ProblemId;
      spec.params = defaultParams(PROBLEMS[spec.problem]);
      this.drawProblem();
      changed();
    });
    $('start').addEventListener('change', () => this.drawStartIdea());
    (['x', 'y', 'z'] as const).forEach((axis, i) => {
      const input = $<HTMLInputElement>(`grid-${axis}`);
      input.addEventListener('input', () => {
        spec.grid[i] = input.value;
        while (spec.grid.length > 1 && !spec.grid[spec.grid.length - 1]?.trim()) spec.grid.pop();
        changed();
      });
    });
    $('entry').addEventListener('change', () => {
      spec.entry = $<HTMLSelectElement>('entry').value;
      changed();
    });
  }

  get problem(): Problem {
    return PROBLEMS[this.spec.problem];
  }

  /** Problem select, sizes, buffers, starts and comparisons for spec.problem and spec.params. */
  drawProblem(): void {
    const p = this.problem;
    $<HTMLSelectElement>('problem').value = p.id;
    $('math').textContent = `${p.math}\n${p.costText}`;
    const box = $('params');
    box.replaceChildren();
    for (const f of p.params) {
      let input: HTMLInputElement | HTMLSelectElement;
      const value = this.spec.params[f.name] ?? f.default;
      if (f.kind === 'choice') {
        input = el('select');
        for (const c of f.choices!) input.append(el('option', { value: c }, c));
        input.value = String(value);
      } else {
        input = el('input', f.kind === 'int' ? { type: 'number', min: String(f.min), max: String(f.max), step: '1' } : { type: 'checkbox' });
        if (f.kind === 'bool') (input as HTMLInputElement).checked = value === true;
        else input.value = String(value);
      }
      input.addEventListener(f.kind === 'int' ? 'input' : 'change', () => {
        this.spec.params[f.name] = f.kind === 'int' ? Number(input.value) : f.kind === 'bool' ? (input as HTMLInputElement).checked : input.value;
        this.checkParams();
        this.changed();
      });
      box.append(field(f.label, input, `param-${f.name}`));
    }
    box.append(el('div', { class: 'hint', id: 'param-error' }));
    this.checkParams();
    // The start and comparison choices survive a redraw of the same problem (a kernel loaded).
    if (this.drawn === p.id) return;
    this.drawn = p.id;
    const start = $<HTMLSelectElement>('start');
    start.replaceChildren(...p.starts.map((s) => el('option', { value: s.id }, `${s.label}${s.production ? ' (production)' : ''}`)));
    start.value = p.starts.find((s) => s.production)?.id ?? p.starts[0].id;
    this.drawStartIdea();
    const cmp = $('compare');
    cmp.replaceChildren(el('div', { class: 'hint' }, "sgdscope's own kernels, validated and timed in the same session:"));
    for (const s of p.starts) {
      const box2 = el('input', { type: 'checkbox', value: s.id, 'data-compare': s.id });
      box2.checked = s.production === true;
      const label = el('label');
      label.append(box2, ` ${s.label}`);
      cmp.append(label, el('br'));
    }
  }

  private drawStartIdea(): void {
    const s = this.problem.starts.find((x) => x.id === $<HTMLSelectElement>('start').value);
    $('start-idea').textContent = s ? `${s.idea} — shaders/${s.shader}.wgsl` : '';
  }

  private checkParams(): void {
    try {
      checkParams(this.problem, this.spec.params);
      this.paramError = null;
    } catch (e) {
      this.paramError = (e as Error).message;
    }
    for (const f of this.problem.params) {
      const input = document.getElementById(`param-${f.name}`);
      input?.setAttribute('aria-invalid', String(this.paramError?.startsWith(`${this.problem.id}.${f.name} `) ?? false));
    }
    const err = document.getElementById('param-error');
    if (err) err.textContent = this.paramError ?? '';
    if (!this.paramError) {
      const bufs = this.problem.buffers(this.spec.params);
      $('buffers').textContent = `buffers: ${bufs.map((b) => `${b.name} ${b.shape} ${b.scalar}${b.role === 'output' ? ' (out)' : ''}`).join(', ')}; uniforms: ${Object.keys(this.problem.uniforms(this.spec.params)).join(', ')}`;
    }
  }

  selectedStart(): string {
    return $<HTMLSelectElement>('start').value;
  }

  /** Entry points, template keys, overrides and grid, from the engine's reading of the text. */
  drawKernel(ins: Inspection | null): void {
    const spec = this.spec;
    const entry = $<HTMLSelectElement>('entry');
    const names = ins?.entries.map((e) => e.name) ?? [];
    if (!names.includes(spec.entry) && spec.entry) names.unshift(spec.entry);
    entry.replaceChildren(...names.map((n) => el('option', { value: n }, n)));
    entry.value = spec.entry;
    const info = ins?.entries.find((e) => e.name === spec.entry);
    $('wg').textContent = ins?.error ? `cannot read the kernel yet: ${ins.error}` : info ? `@workgroup_size(${info.workgroupSize.join(', ')}); binds ${info.bindings.map((b) => b.name).join(', ')}` : '';

    const tpl = $('template');
    tpl.replaceChildren();
    for (const k of ins?.templateKeys ?? Object.keys(spec.template)) {
      const input = el('input', { type: 'number', step: '1', min: '1' });
      input.value = spec.template[k] === undefined ? '' : String(spec.template[k]);
      input.addEventListener('input', () => {
        if (input.value === '') delete spec.template[k];
        else spec.template[k] = Number(input.value);
        this.changed();
      });
      tpl.append(field(`{{${k}}}`, input, `tpl-${k}`));
    }
    for (const k of Object.keys(spec.template)) if (ins && !ins.templateKeys.includes(k)) delete spec.template[k];

    const ov = $('overrides');
    ov.replaceChildren();
    const fixed = this.paramError ? {} : this.problem.fixed(spec.params);
    for (const d of info?.overrides ?? []) {
      const isBool = d.type === 'bool';
      const input = el('input', isBool ? { type: 'checkbox' } : { type: 'text' });
      const given = fixed[d.name] ?? spec.overrides[d.name];
      if (isBool) input.checked = given === undefined ? d.init === 'true' : given === true || given === 1;
      else {
        input.value = given === undefined ? '' : String(Number(given));
        input.placeholder = d.init ?? 'required';
      }
      if (d.name in fixed) {
        input.disabled = true;
        input.title = 'set by the problem';
      }
      input.addEventListener(isBool ? 'change' : 'input', () => {
        if (isBool) spec.overrides[d.name] = input.checked;
        else if (input.value.trim() === '') delete spec.overrides[d.name];
        else spec.overrides[d.name] = Number(input.value);
        this.changed();
      });
      ov.append(field(`${d.name}${d.name in fixed ? ' (problem)' : ''}`, input, `ov-${d.name}`));
    }
    (['x', 'y', 'z'] as const).forEach((axis, i) => ($<HTMLInputElement>(`grid-${axis}`).value = spec.grid[i] ?? ''));
  }

  /** Ids of the comparison kernels ticked. */
  compareIds(): string[] {
    return [...document.querySelectorAll<HTMLInputElement>('#compare input[data-compare]')].filter((b) => b.checked).map((b) => b.value);
  }
}
