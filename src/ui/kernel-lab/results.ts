/**
 * What a run shows: the compiler's and the binder's messages, the comparison with the reference
 * (first mismatches by position), and the result table in the benchmark's columns plus how many
 * times faster your kernel is than each other row.
 */
import { fmt, type Row } from '../../../bench/core/report.ts';
import type { OutputCheck } from '../../kernel-lab/compare.ts';
import type { Diagnostic } from '../../kernel-lab/protocol.ts';
import { downloadBlob } from '../charts.ts';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

const HEAD = ['kernel', 'variant', 'shape', 'ms', 'GFLOP/s', 'GB/s', '% of peak', 'bound', 'yours is … × faster', 'check'];

export class ResultsView {
  private yours: Row | null = null;

  constructor(private readonly goto: (line: number, col: number) => void) {
    $('results').querySelector('thead')!.innerHTML = `<tr>${HEAD.map((h) => `<th>${h}</th>`).join('')}</tr>`;
  }

  clear(): void {
    $('messages').replaceChildren();
    $('results').querySelector('tbody')!.replaceChildren();
    $('notes').textContent = '';
    this.yours = null;
  }

  private message(text: string, ok = false): HTMLDivElement {
    const d = document.createElement('div');
    d.className = ok ? 'msg ok' : 'msg';
    d.textContent = text;
    $('messages').append(d);
    return d;
  }

  /** Compiler messages; a click moves the editor to the line and column. */
  diagnostics(ds: Diagnostic[]): void {
    for (const d of ds) {
      const m = this.message(d.text, d.severity !== 'error');
      m.dataset.line = String(d.line);
      m.addEventListener('click', () => this.goto(d.line, d.col));
    }
  }

  messages(stage: string, texts: string[]): void {
    for (const t of texts) this.message(`${stage}: ${t}`);
  }

  /** The comparison with the reference: per output, what was checked and the first mismatches. */
  checks(checks: OutputCheck[], summary: string | null, guard: string): void {
    for (const c of checks) {
      if (c.bad === 0) {
        this.message(`${c.output}: ${c.checked} values match the CPU reference (max |err| ${c.maxErr.toExponential(1)})`, true);
        continue;
      }
      const lines = c.first.map((f) => `  ${f.at.padEnd(16)} got ${String(f.got).padEnd(14)} reference ${f.ref}`);
      this.message(`${c.output}: mismatch in ${c.bad} of ${c.checked} values (max |err| ${c.maxErr}); the first:\n${lines.join('\n')}`);
    }
    if (summary !== null) $('notes').textContent = `${guard}`;
  }

  row(r: Row, role: 'yours' | 'sgdscope' | 'peer'): void {
    if (role === 'yours') this.yours = r;
    const tr = document.createElement('tr');
    tr.className = `${role}${r.check.startsWith('FAIL') ? ' fail' : ''}`;
    tr.dataset.role = role;
    let vs = '';
    const ratio = role === 'peer' ? r.vsPeer?.ratio : role === 'sgdscope' && this.yours?.ms && r.ms ? r.ms / this.yours.ms : undefined;
    if (ratio !== undefined) vs = `<span class="${ratio >= 1 ? 'faster' : 'slower'}">${fmt(ratio)}×</span>`;
    const cells = [
      esc(r.kernel), esc(r.variant), esc(r.shape),
      r.ms === null ? '-' : `${fmt(r.ms)}${r.timer === 'wall' ? ' w' : ''}`,
      r.flops > 0 ? fmt(r.gflops) : '-', r.bytes > 0 ? fmt(r.gbs) : '-',
      r.peakPct === null ? '-' : `${fmt(r.peakPct, 2)}%`, r.bound, vs, esc(r.check),
    ];
    tr.innerHTML = cells.map((c, i) => `<td${i >= 3 && i <= 8 ? ' class="num"' : ''}>${c}</td>`).join('');
    if (r.note) tr.title = r.note;
    $('results').querySelector('tbody')!.append(tr);
  }

  notes(lines: string[]): void {
    $('notes').textContent = lines.join(' · ');
  }
}

/** A download of `text` as `name`. */
export function download(name: string, text: string, type: string): void {
  downloadBlob(new Blob([text], { type }), name);
}
