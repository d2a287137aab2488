;; The causal softmax rows of the CPU port of gpt2_attention's `forward`
;; (src/gpt2/host/attention.ts through src/gpt2/host/wasm/softmax.ts), WebAssembly SIMD. Row r of
;; a block (f32, `stride` floats apart, stride a multiple of 4) holds the scores of query t = r
;; over keys s <= r (masked keys already -inf; entries past r are ignored). Each row becomes
;;   m = max of its scores (NaN ignored, -FLT_MAX when none), e_s = exp(score_s - m) in f64,
;;   sum = sum of e_s (f64), p_s = f32(e_s / sum) for s <= r (0 when sum is not > 0), 0 past r,
;; which is what the float64 scalar port computes, exp excepted: exp(a) in f64x2 by range
;; reduction, a clamped to >= -708 (and 0 below, where e^a < 2^-1021 vanishes once rounded to
;; f32 against sum >= 1), k = nearest(a log2 e) read from the mantissa of a log2 e + 1.5 2^52,
;; r = a - k ln2 (Cody-Waite, fdlibm's two parts), e^r by its Taylor polynomial to degree 12
;; (relative error < 1e-15 on |r| <= ln2 / 2), times 2^k built from exponent bits. NaN stays NaN.
;; `tmp` is f64 scratch for one row (stride doubles, 16-byte aligned).
;; Compiled into softmax_wasm.ts by src/gpu/host/wasm/build.ts (deno task gen:wasm).
(module
  (memory (export "memory") 1)

  (func $exp (param $a v128) (result v128)
    (local $ac v128) (local $j v128) (local $k v128) (local $r v128) (local $p v128)
    (local.set $ac (f64x2.pmax (local.get $a) (v128.const f64x2 -708 -708)))
    (local.set $j
      (f64x2.add
        (f64x2.mul (local.get $ac) (v128.const f64x2 1.4426950408889634 1.4426950408889634))
        (v128.const f64x2 6755399441055744 6755399441055744)))
    (local.set $k (i64x2.sub (local.get $j) (v128.const i64x2 0x4338000000000000 0x4338000000000000)))
    (local.set $j (f64x2.sub (local.get $j) (v128.const f64x2 6755399441055744 6755399441055744)))
    (local.set $r
      (f64x2.sub
        (f64x2.sub (local.get $ac)
          (f64x2.mul (local.get $j)
            (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01)))
        (f64x2.mul (local.get $j)
          (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10))))
    (local.set $p (v128.const f64x2 2.08767569878680989792e-09 2.08767569878680989792e-09))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r))
      (v128.const f64x2 2.50521083854417187751e-08 2.50521083854417187751e-08)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r))
      (v128.const f64x2 2.75573192239858906526e-07 2.75573192239858906526e-07)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r))
      (v128.const f64x2 2.75573192239858906526e-06 2.75573192239858906526e-06)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r))
      (v128.const f64x2 2.48015873015873015873e-05 2.48015873015873015873e-05)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r))
      (v128.const f64x2 1.98412698412698412698e-04 1.98412698412698412698e-04)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r))
      (v128.const f64x2 1.38888888888888888889e-03 1.38888888888888888889e-03)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r))
      (v128.const f64x2 8.33333333333333333333e-03 8.33333333333333333333e-03)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r))
      (v128.const f64x2 4.16666666666666666667e-02 4.16666666666666666667e-02)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r))
      (v128.const f64x2 1.66666666666666666667e-01 1.66666666666666666667e-01)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 0.5 0.5)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 1 1)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (v128.const f64x2 1 1)))
    (v128.andnot
      (f64x2.mul (local.get $p)
        (i64x2.shl (i64x2.add (local.get $k) (v128.const i64x2 1023 1023)) (i32.const 52)))
      (f64x2.lt (local.get $a) (v128.const f64x2 -708 -708))))

  ;; The rows [0, rows) of the block at p, as above; tmp: stride doubles of scratch.
  (func (export "softmax_rows") (param $p i32) (param $rows i32) (param $stride i32) (param $tmp i32)
    (local $r i32) (local $n i32) (local $i i32) (local $row i32) (local $at i32) (local $q i32)
    (local $v v128) (local $m v128) (local $m64 v128) (local $s0 v128) (local $s1 v128)
    (local $e0 v128) (local $e1 v128) (local $inv v128) (local $sum f64) (local $mx f32)
    (local $lanes v128)
    (local.set $lanes (v128.const i32x4 0 1 2 3))
    (local.set $r (i32.const 0))
    (block $rows_done
      (loop $next_row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $n (i32.add (local.get $r) (i32.const 1)))
        (local.set $row
          (i32.add (local.get $p) (i32.shl (i32.mul (local.get $r) (local.get $stride)) (i32.const 2))))
        ;; max (pmax keeps m where a score is NaN), lanes at or past n as -inf
        (local.set $m (v128.const f32x4 -3.4028234663852886e38 -3.4028234663852886e38
          -3.4028234663852886e38 -3.4028234663852886e38))
        (local.set $i (i32.const 0))
        (block $max_done
          (loop $max_next
            (br_if $max_done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $v
              (v128.bitselect
                (v128.load (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2))))
                (v128.const f32x4 -inf -inf -inf -inf)
                (i32x4.lt_s (local.get $lanes) (i32x4.splat (i32.sub (local.get $n) (local.get $i))))))
            (local.set $m (f32x4.pmax (local.get $m) (local.get $v)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $max_next)))
        (local.set $m
          (f32x4.pmax (local.get $m)
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
        (local.set $m
          (f32x4.pmax (local.get $m)
            (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $m) (local.get $m))))
        (local.set $m64 (f64x2.splat (f64.promote_f32 (f32x4.extract_lane 0 (local.get $m)))))
        ;; e = exp(score - m) in f64 into tmp, sums in two f64x2 accumulators
        (local.set $s0 (v128.const f64x2 0 0))
        (local.set $s1 (v128.const f64x2 0 0))
        (local.set $i (i32.const 0))
        (block $exp_done
          (loop $exp_next
            (br_if $exp_done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $v
              (v128.bitselect
                (v128.load (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2))))
                (v128.const f32x4 -inf -inf -inf -inf)
                (i32x4.lt_s (local.get $lanes) (i32x4.splat (i32.sub (local.get $n) (local.get $i))))))
            (local.set $e0
              (call $exp (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $m64))))
            (local.set $e1
              (call $exp
                (f64x2.sub
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
                      (local.get $v) (local.get $v)))
                  (local.get $m64))))
            (local.set $q (i32.add (local.get $tmp) (i32.shl (local.get $i) (i32.const 3))))
            (v128.store (local.get $q) (local.get $e0))
            (v128.store offset=16 (local.get $q) (local.get $e1))
            (local.set $s0 (f64x2.add (local.get $s0) (local.get $e0)))
            (local.set $s1 (f64x2.add (local.get $s1) (local.get $e1)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $exp_next)))
        (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
        (local.set $sum
          (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
        ;; no visible key: probabilities 0
        (local.set $inv
          (f64x2.splat
            (select (f64.div (f64.const 1) (local.get $sum)) (f64.const 0)
              (f64.gt (local.get $sum) (f64.const 0)))))
        ;; p = f32(e / sum) (lanes past n hold e = 0), then zeros to the end of the row
        (local.set $i (i32.const 0))
        (block $out_done
          (loop $out_next
            (br_if $out_done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $q (i32.add (local.get $tmp) (i32.shl (local.get $i) (i32.const 3))))
            (v128.store (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.demote_f64x2_zero (f64x2.mul (v128.load (local.get $q)) (local.get $inv)))
                (f32x4.demote_f64x2_zero
                  (f64x2.mul (v128.load offset=16 (local.get $q)) (local.get $inv)))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $out_next)))
        (block $zero_done
          (loop $zero_next
            (br_if $zero_done (i32.ge_u (local.get $i) (local.get $stride)))
            (v128.store (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2)))
              (v128.const f32x4 0 0 0 0))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $zero_next)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $next_row)))))
