/**
 * The float64 inner loops of the dense eigensolver and the window scatter, in WebAssembly text
 * with 128-bit SIMD (two doubles per instruction, no bounds checks): ~4× the same loops in
 * JavaScript here (6.9 vs 1.6 GFLOP/s measured for fused_row on 2,500 doubles). Compiled once
 * by linalg.ts (wabt); every address is a byte offset into the module's memory, every array
 * float64. Each function has a plain JavaScript twin in the callers (symmetric-eig-top.ts,
 * window-scatter.ts) that is the spec; tests compare the two.
 *
 *   dot(x, y, n) → Σ x_i y_i                axpy(a, x, y, n): y += a·x
 *   fused_row(L, v, w, u, y, n, vi, wi, ui) → s: one row of the tridiagonalisation's fused pass:
 *       for j < n (n even; the caller does an odd last one): a = L_j − vi·w_j − wi·v_j; L_j = a;
 *       s += a·u_j; y_j += a·ui
 *       (rank-2 update of the trailing block and the next step's symmetric product in one read)
 *   reflect(V, Z, len, beta, g, stride): for each of g vectors z (z = Z + q·stride bytes):
 *       z −= beta·(vᵀz)·v over len doubles (one Householder reflector on a group of vectors)
 *   mgs(x, Z, n, count): x −= Σ_q (z_qᵀx)·z_q for the count vectors z_q = Z + q·n doubles
 *   syrk_panel(D, S, P, B, i0, i1): S[i, j] += Σ_t D[i·B + t]·D[j·B + t] for i in [i0, i1)
 *       (step 2) and j from 4·⌊i/4⌋ to P (step 4); D is P × B (a panel of B rows of the window,
 *       transposed and centred), S is P × P row-major; P a multiple of 4, B even, i0 even.
 */
/** The four columns of syrk_panel's 2×4 register block. */
const COLS = [0, 1, 2, 3];

/** S[at + offset … + 16) += (lane sums of a, lane sums of b): [a0 + a1, b0 + b1] by two shuffles. */
function storePair(at: string, offset: number, a: string, b: string): string {
  const lo = '0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23';
  const hi = '8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31';
  return `(v128.store offset=${offset} (local.get ${at}) (f64x2.add (v128.load offset=${offset} (local.get ${at})) (f64x2.add
          (i8x16.shuffle ${lo} (local.get ${a}) (local.get ${b})) (i8x16.shuffle ${hi} (local.get ${a}) (local.get ${b})))))`;
}

export const LINALG_WAT = `(module
  (memory (export "memory") 1)

  (func $dot (export "dot") (param $x i32) (param $y i32) (param $n i32) (result f64)
    (local $o i32) (local $end i32) (local $s v128) (local $r f64)
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (local.set $s (f64x2.add (local.get $s)
        (f64x2.mul (v128.load (i32.add (local.get $x) (local.get $o))) (v128.load (i32.add (local.get $y) (local.get $o))))))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br $l)))
    (local.set $r (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s))))
    (if (i32.and (local.get $n) (i32.const 1))
      (then (local.set $r (f64.add (local.get $r)
        (f64.mul (f64.load (i32.add (local.get $x) (local.get $end))) (f64.load (i32.add (local.get $y) (local.get $end))))))))
    (local.get $r))

  (func $axpy (export "axpy") (param $a f64) (param $x i32) (param $y i32) (param $n i32)
    (local $o i32) (local $end i32) (local $A v128) (local $p i32)
    (local.set $A (f64x2.splat (local.get $a)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (local.set $p (i32.add (local.get $y) (local.get $o)))
      (v128.store (local.get $p) (f64x2.add (v128.load (local.get $p))
        (f64x2.mul (local.get $A) (v128.load (i32.add (local.get $x) (local.get $o))))))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br $l)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $p (i32.add (local.get $y) (local.get $end)))
        (f64.store (local.get $p) (f64.add (f64.load (local.get $p))
          (f64.mul (local.get $a) (f64.load (i32.add (local.get $x) (local.get $end)))))))))

  (func (export "fused_row") (param $L i32) (param $v i32) (param $w i32) (param $u i32) (param $y i32) (param $n i32)
        (param $vi f64) (param $wi f64) (param $ui f64) (result f64)
    (local $o i32) (local $end i32) (local $a v128) (local $s v128) (local $VI v128) (local $WI v128) (local $UI v128)
    (local $p i32) (local $q i32)
    (local.set $VI (f64x2.splat (local.get $vi)))
    (local.set $WI (f64x2.splat (local.get $wi)))
    (local.set $UI (f64x2.splat (local.get $ui)))
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (local.set $p (i32.add (local.get $L) (local.get $o)))
      (local.set $a (f64x2.sub (f64x2.sub (v128.load (local.get $p))
        (f64x2.mul (local.get $VI) (v128.load (i32.add (local.get $w) (local.get $o)))))
        (f64x2.mul (local.get $WI) (v128.load (i32.add (local.get $v) (local.get $o))))))
      (v128.store (local.get $p) (local.get $a))
      (local.set $s (f64x2.add (local.get $s) (f64x2.mul (local.get $a) (v128.load (i32.add (local.get $u) (local.get $o))))))
      (local.set $q (i32.add (local.get $y) (local.get $o)))
      (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (f64x2.mul (local.get $a) (local.get $UI))))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br $l)))
    (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s))))

  (func (export "reflect") (param $V i32) (param $Z i32) (param $len i32) (param $beta f64) (param $g i32) (param $stride i32)
    (local $q i32) (local $z i32)
    (local.set $z (local.get $Z))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $q) (local.get $g)))
      (call $axpy (f64.neg (f64.mul (local.get $beta) (call $dot (local.get $V) (local.get $z) (local.get $len))))
        (local.get $V) (local.get $z) (local.get $len))
      (local.set $z (i32.add (local.get $z) (local.get $stride)))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $l))))

  (func (export "mgs") (param $x i32) (param $Z i32) (param $n i32) (param $count i32)
    (local $q i32) (local $z i32)
    (local.set $z (local.get $Z))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $q) (local.get $count)))
      (call $axpy (f64.neg (call $dot (local.get $z) (local.get $x) (local.get $n))) (local.get $z) (local.get $x) (local.get $n))
      (local.set $z (i32.add (local.get $z) (i32.shl (local.get $n) (i32.const 3))))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $l))))

  (func (export "syrk_panel") (param $D i32) (param $S i32) (param $P i32) (param $B i32) (param $i0 i32) (param $i1 i32)
    (local $i i32) (local $j i32) (local $t i32) (local $rowb i32)
    (local $ai i32) (local $aj i32) (local $ci i32) (local $cj i32)
    (local $x0 v128) (local $x1 v128) (local $y v128) (local $p i32)
    ${COLS.map((c) => `(local $s0${c} v128) (local $s1${c} v128)`).join(' ')}
    (local.set $rowb (i32.shl (local.get $B) (i32.const 3)))
    (local.set $i (local.get $i0))
    (block $idone (loop $il
      (br_if $idone (i32.ge_u (local.get $i) (local.get $i1)))
      (local.set $ai (i32.add (local.get $D) (i32.mul (local.get $i) (local.get $rowb))))
      (local.set $j (i32.and (local.get $i) (i32.const -4)))
      (block $jdone (loop $jl
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $P)))
        (local.set $aj (i32.add (local.get $D) (i32.mul (local.get $j) (local.get $rowb))))
        ${COLS.map((c) => `(local.set $s0${c} (v128.const i64x2 0 0)) (local.set $s1${c} (v128.const i64x2 0 0))`).join('\n        ')}
        (local.set $t (i32.const 0))
        (block $tdone (loop $tl
          (br_if $tdone (i32.ge_u (local.get $t) (local.get $rowb)))
          (local.set $x0 (v128.load (i32.add (local.get $ai) (local.get $t))))
          (local.set $x1 (v128.load (i32.add (i32.add (local.get $ai) (local.get $rowb)) (local.get $t))))
          (local.set $p (i32.add (local.get $aj) (local.get $t)))
          ${COLS.map(
            (c) => `${c > 0 ? '(local.set $p (i32.add (local.get $p) (local.get $rowb)))' : ''}
          (local.set $y (v128.load (local.get $p)))
          (local.set $s0${c} (f64x2.add (local.get $s0${c}) (f64x2.mul (local.get $x0) (local.get $y))))
          (local.set $s1${c} (f64x2.add (local.get $s1${c}) (f64x2.mul (local.get $x1) (local.get $y))))`,
          ).join('\n          ')}
          (local.set $t (i32.add (local.get $t) (i32.const 16)))
          (br $tl)))
        ;; S[i, j..j+3] and S[i+1, j..j+3] += the lane sums of the accumulators
        (local.set $ci (i32.add (local.get $S) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $P)) (local.get $j)) (i32.const 3))))
        (local.set $cj (i32.add (local.get $ci) (i32.shl (local.get $P) (i32.const 3))))
        ${[0, 1].flatMap((r) => [0, 2].map((c) => storePair(r ? '$cj' : '$ci', c * 8, `$s${r}${c}`, `$s${r}${c + 1}`))).join('\n        ')}
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $jl)))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br $il))))
)`;
