/**
 * The lab's code editor: CodeMirror 6 with WGSL highlighting (./wgsl-mode.ts), line numbers,
 * history, bracket matching, and the compiler's messages drawn inline at their line and column
 * (@codemirror/lint diagnostics, set by the page after each run).
 */
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection } from '@codemirror/view';
import { EditorState } from '@codemirror/state';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, indentUnit, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { wgsl } from './wgsl-mode.ts';
import type { Diagnostic } from '../../kernel-lab/protocol.ts';

export interface LabEditor {
  text(): string;
  setText(text: string): void;
  /** Marks the messages in the text (replacing earlier ones). */
  mark(diagnostics: Diagnostic[]): void;
  /** Moves the cursor to line:col and scrolls it into view. */
  goto(line: number, col: number): void;
}

export function createEditor(parent: HTMLElement, onChange: (text: string) => void): LabEditor {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: '',
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        history(),
        bracketMatching(),
        indentUnit.of('  '),
        wgsl,
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        lintGutter(),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
      ],
    }),
  });

  const position = (line: number, col: number): { from: number; to: number } => {
    const doc = view.state.doc;
    const l = doc.line(Math.min(Math.max(1, line), doc.lines));
    if (col <= 0) return { from: l.from, to: l.to };
    const from = Math.min(l.from + col - 1, l.to);
    return { from, to: from };
  };

  return {
    text: () => view.state.doc.toString(),
    setText(text: string) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    mark(diagnostics: Diagnostic[]) {
      const marks: CmDiagnostic[] = diagnostics.map((d) => {
        const { from, to } = position(d.line, d.col);
        const end = d.col > 0 ? Math.min(view.state.doc.lineAt(from).to, from + Math.max(1, d.length)) : to;
        return { from, to: Math.max(end, from), severity: d.severity, message: d.message, source: `kernel.wgsl:${d.line}:${d.col}` };
      });
      view.dispatch(setDiagnostics(view.state, marks));
    },
    goto(line: number, col: number) {
      const { from } = position(line, col);
      view.dispatch({ selection: { anchor: from }, effects: EditorView.scrollIntoView(from, { y: 'center' }) });
      view.focus();
    },
  };
}
