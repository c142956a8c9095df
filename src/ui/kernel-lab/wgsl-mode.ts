/**
 * WGSL highlighting for CodeMirror 6 as a StreamLanguage tokenizer. npm has one WGSL grammar for
 * CodeMirror (@iizukak/codemirror-lang-wgsl 0.3.0, a single release); its Lezer grammar rejects
 * valid WGSL our shaders use (`array<f32, BM * BK>`) and sgdscope's template syntax ({{TM}},
 * `// @repeat`), which breaks highlighting from there on. A token-level mode cannot be thrown
 * off by either; it also marks the template keys and directives (src/gpu/template.ts).
 */
import { StreamLanguage, type StringStream } from '@codemirror/language';

const KEYWORDS = new Set(
  'alias break case const const_assert continue continuing default diagnostic discard else enable fn for if let loop override requires return struct switch var while'.split(' '),
);
const ATOMS = new Set(['true', 'false']);
const ADDRESS = new Set(['function', 'private', 'workgroup', 'uniform', 'storage', 'read', 'write', 'read_write']);
const TYPES = /^(bool|f16|f32|i32|u32|vec[234][fhiu]?|mat[234]x[234][fh]?|array|atomic|ptr|sampler|sampler_comparison|texture_\w+)$/;
const BUILTINS = new Set(
  ('abs acos acosh all any arrayLength asin asinh atan atan2 atanh ceil clamp cos cosh countLeadingZeros countOneBits ' +
    'countTrailingZeros cross degrees determinant distance dot exp exp2 extractBits faceForward firstLeadingBit ' +
    'firstTrailingBit floor fma fract frexp insertBits inverseSqrt ldexp length log log2 max min mix modf normalize pow ' +
    'quantizeToF16 radians reflect refract reverseBits round saturate select sign sin sinh smoothstep sqrt step tan tanh ' +
    'transpose trunc bitcast pack4x8snorm pack4x8unorm pack2x16snorm pack2x16unorm pack2x16float unpack4x8snorm ' +
    'unpack4x8unorm unpack2x16snorm unpack2x16unorm unpack2x16float dot4I8Packed dot4U8Packed ' +
    'atomicLoad atomicStore atomicAdd atomicSub atomicMax atomicMin atomicAnd atomicOr atomicXor atomicExchange ' +
    'atomicCompareExchangeWeak storageBarrier workgroupBarrier textureBarrier workgroupUniformLoad').split(/\s+/),
);

interface State {
  /** Depth of nested block comments (WGSL's nest). */
  comment: number;
}

function blockComment(stream: StringStream, state: State): string {
  while (!stream.eol()) {
    if (stream.match('/*')) state.comment++;
    else if (stream.match('*/')) state.comment--;
    else stream.next();
    if (state.comment === 0) break;
  }
  return 'comment';
}

export const wgsl = StreamLanguage.define<State>({
  name: 'wgsl',
  startState: () => ({ comment: 0 }),
  token(stream, state) {
    if (state.comment > 0) return blockComment(stream, state);
    if (stream.eatSpace()) return null;
    // sgdscope's template and include directives live in comments: shown as meta, not comment.
    if (stream.match(/^\/\/\s*@(repeat|end|include)\b.*/)) return 'meta';
    if (stream.match('//')) {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.match('/*')) {
      state.comment = 1;
      return blockComment(stream, state);
    }
    if (stream.match(/^\{\{\s*[A-Za-z_]\w*\s*\}\}/)) return 'macroName';
    if (stream.match(/^@[A-Za-z_]\w*/)) return 'meta';
    if (stream.match(/^(0[xX][0-9a-fA-F]+|\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?)[iufh]?/)) return 'number';
    const word = stream.match(/^[A-Za-z_]\w*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      if (KEYWORDS.has(w)) return 'keyword';
      if (ATOMS.has(w)) return 'bool';
      if (TYPES.test(w)) return 'typeName';
      if (ADDRESS.has(w)) return 'modifier';
      if (BUILTINS.has(w)) return 'variableName.standard';
      return stream.match(/^\s*\(/, false) ? 'variableName.function' : 'variableName';
    }
    if (stream.match(/^[-+*/%=<>!&|^~]+/)) return 'operator';
    stream.next();
    return 'punctuation';
  },
  languageData: { commentTokens: { line: '//', block: { open: '/*', close: '*/' } } },
});
