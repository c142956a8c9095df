/**
 * A loop guard for the one validation run of a user's kernel, so a kernel that never ends stops
 * by itself on any adapter. A software adapter (SwiftShader) has no GPU watchdog: a dispatch that
 * loops forever occupies its threads until the browser exits, and destroying the device then
 * blocks Chrome's GPU process. On a GPU the driver's watchdog would reset it; either way the
 * guard finds it first.
 *
 * Every `for`, `while` and `loop` gets a counter of its own, declared just before it:
 *
 *   var _lab_i3: u32 = 0u; for (…) { _lab_i3 += 1u; if (_lab_i3 > CAP) { atomicStore(&lab_guard[0], 1u); break; }
 *                                    if (atomicLoad(&lab_guard[0]) != 0u) { break; } …
 *
 * so a loop that runs past CAP iterations sets a flag in an extra storage buffer and leaves, and
 * every other invocation leaves at its next iteration once the flag is set. A loop whose body
 * synchronises (a barrier, workgroupUniformLoad, subgroup or quad operations) only gets the counter
 * test, with a smaller cap: the counter is a function-scope variable stepped by a constant, so the
 * test stays uniform and the barrier stays legal; reading the flag would not be.
 *
 * The text is changed within lines (the buffer's declaration is a line added at the end), so the
 * template's line map still holds. The guarded kernel is only validated, never timed: timing runs the kernel as typed.
 */
export const GUARD_BUFFER = 'lab_guard';

export interface GuardedSource {
  code: string;
  loops: number;
  binding: number;
}

/** The text with comments blanked to spaces, so offsets match the original. */
export function maskComments(code: string): string {
  return code
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, (c) => ' '.repeat(c.length));
}

/** Index of the brace that closes the one at `open`, or -1. */
function closing(masked: string, open: number): number {
  let depth = 0;
  for (let i = open; i < masked.length; i++) {
    if (masked[i] === '{') depth++;
    else if (masked[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Where the loop's body opens: after for's parenthesised header, or the first brace at depth 0. */
function bodyBrace(masked: string, keyword: string, after: number): number {
  let i = after;
  if (keyword === 'for') {
    while (i < masked.length && /\s/.test(masked[i])) i++;
    if (masked[i] !== '(') return -1;
    let depth = 0;
    for (; i < masked.length; i++) {
      if (masked[i] === '(') depth++;
      else if (masked[i] === ')' && --depth === 0) break;
    }
    i++;
  }
  let depth = 0;
  for (; i < masked.length; i++) {
    const ch = masked[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '{' && depth === 0) return i;
    else if (ch === ';' || ch === '}') return -1;
  }
  return -1;
}

const SYNCHRONISING = /\b(workgroupBarrier|storageBarrier|textureBarrier|workgroupUniformLoad|subgroup\w*|quad\w*)\s*\(/;

/**
 * The guarded text, or null when the kernel has no loop. `cap` bounds the iterations of one run of
 * a loop; `syncCap` those of a loop that synchronises.
 */
export function guardLoops(code: string, cap: number, syncCap: number): GuardedSource | null {
  const masked = maskComments(code);
  const bindings = [...masked.matchAll(/@binding\(\s*(\d+)\s*\)/g)].map((m) => Number(m[1]));
  const binding = bindings.length ? Math.max(...bindings) + 1 : 0;
  const sites: { at: number; brace: number; sync: boolean }[] = [];
  for (const m of masked.matchAll(/\b(for|while|loop)\b/g)) {
    const brace = bodyBrace(masked, m[1], m.index + m[1].length);
    if (brace < 0) continue;
    const end = closing(masked, brace);
    if (end < 0) continue;
    sites.push({ at: m.index, brace, sync: SYNCHRONISING.test(masked.slice(brace, end)) });
  }
  if (sites.length === 0) return null;
  let out = code;
  // From the last site back, so earlier offsets stay valid.
  sites.forEach((_, j) => {
    const s = sites[sites.length - 1 - j];
    const id = `_lab_i${sites.length - 1 - j}`;
    const limit = s.sync ? syncCap : cap;
    const flag = s.sync ? '' : ` if (atomicLoad(&${GUARD_BUFFER}[0]) != 0u) { break; }`;
    const test = ` ${id} += 1u; if (${id} > ${limit}u) { atomicStore(&${GUARD_BUFFER}[0], 1u); break; }${flag}`;
    out = `${out.slice(0, s.at)}var ${id}: u32 = 0u; ${out.slice(s.at, s.brace + 1)}${test}${out.slice(s.brace + 1)}`;
  });
  out += `\n@group(0) @binding(${binding}) var<storage, read_write> ${GUARD_BUFFER}: array<atomic<u32>>;`;
  return { code: out, loops: sites.length, binding };
}
