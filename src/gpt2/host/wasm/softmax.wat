;; The CPU attention port's causal softmax over one head, two f64 lanes at a time (WebAssembly
;; SIMD), for src/gpt2/host/attention.ts through softmax.ts beside this file.
;; Memory: P, the head's scores as float64 [Tp, Tp] row-major at byte $p (row t holds keys
;; 0 .. t; masked keys already -inf), and probs as float32 [T, T] at byte $q.
;; Row t, keys s <= t: x_s = P[t, s]·scale, m = max(LOWEST, x_s), e_s = exp(x_s - m),
;; P[t, s] = e_s / sum e (0 for every s when the sum is 0: no visible key), P[t, s > t] = 0;
;; probs[t, s] = f32(P[t, s]), 0 past t.
;; exp(y), y <= 0: y clamped to >= -745 (-inf included), k = nearest(y log2 e),
;; r = y - k ln2 (Cody-Waite, fdlibm's two parts, |r| <= ln2/2), e^r by its Taylor series to r^13
;; (Estrin's scheme, remainder < 2e-16 relative), times 2^k built from exponent bits ((k + 1023) << 52);
;; results below e^-708 (where 2^k would be subnormal) are 0, far below anything a float32
;; probability can hold.
;; Compiled into softmax_wasm.ts by src/gpu/host/wasm/build.ts (deno task gen:wasm).
(module
  (memory (export "memory") 1)

  ;; exp of both lanes of $y (each <= 0 or -inf).
  (func $exp2 (param $y v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128) (local $pow v128)
    (local $r2 v128) (local $r4 v128) (local $r8 v128) (local $a0 v128) (local $a1 v128)
    (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128)
    (local.set $y (f64x2.max (local.get $y) (v128.const f64x2 -745 -745)))
    (local.set $k
      (f64x2.nearest
        (f64x2.mul (local.get $y)
          (v128.const f64x2 1.4426950408889634074 1.4426950408889634074))))
    (local.set $r
      (f64x2.sub
        (f64x2.sub (local.get $y)
          (f64x2.mul (local.get $k)
            (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01)))
        (f64x2.mul (local.get $k)
          (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10))))
    ;; sum of r^i / i!, i = 0 .. 13, by Estrin's scheme (pairs, then powers r^2, r^4, r^8): a
    ;; short dependency chain, where Horner's 13 dependent steps bound the loop by latency.
    (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
    (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
    (local.set $r8 (f64x2.mul (local.get $r4) (local.get $r4)))
    (local.set $a0 (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $r) (v128.const f64x2 1 1))))
    (local.set $a1 (f64x2.add (v128.const f64x2 0.5 0.5) (f64x2.mul (local.get $r) (v128.const f64x2 1.6666666666666666667e-01 1.6666666666666666667e-01))))
    (local.set $a2 (f64x2.add (v128.const f64x2 4.1666666666666666667e-02 4.1666666666666666667e-02) (f64x2.mul (local.get $r) (v128.const f64x2 8.3333333333333333333e-03 8.3333333333333333333e-03))))
    (local.set $a3 (f64x2.add (v128.const f64x2 1.3888888888888888889e-03 1.3888888888888888889e-03) (f64x2.mul (local.get $r) (v128.const f64x2 1.9841269841269841270e-04 1.9841269841269841270e-04))))
    (local.set $a4 (f64x2.add (v128.const f64x2 2.4801587301587301587e-05 2.4801587301587301587e-05) (f64x2.mul (local.get $r) (v128.const f64x2 2.7557319223985890653e-06 2.7557319223985890653e-06))))
    (local.set $a5 (f64x2.add (v128.const f64x2 2.7557319223985890653e-07 2.7557319223985890653e-07) (f64x2.mul (local.get $r) (v128.const f64x2 2.5052108385441718775e-08 2.5052108385441718775e-08))))
    (local.set $a6 (f64x2.add (v128.const f64x2 2.0876756987868098979e-09 2.0876756987868098979e-09) (f64x2.mul (local.get $r) (v128.const f64x2 1.6059043836821614599e-10 1.6059043836821614599e-10))))
    (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $a1) (local.get $r2))))
    (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $a3) (local.get $r2))))
    (local.set $a4 (f64x2.add (local.get $a4) (f64x2.mul (local.get $a5) (local.get $r2))))
    (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $a2) (local.get $r4))))
    (local.set $a4 (f64x2.add (local.get $a4) (f64x2.mul (local.get $a6) (local.get $r4))))
    (local.set $p (f64x2.add (local.get $a0) (f64x2.mul (local.get $a4) (local.get $r8))))
    ;; 2^k from exponent bits; k >= -1075 here, and the lanes below -708 are zeroed after.
    (local.set $pow
      (i64x2.shl
        (i64x2.add
          (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k)))
          (v128.const i64x2 1023 1023))
        (i32.const 52)))
    (v128.and
      (f64x2.mul (local.get $p) (local.get $pow))
      (f64x2.ge (local.get $y) (v128.const f64x2 -708 -708))))

  ;; The whole head: rows t = 0 .. $T - 1 of P (row stride $Tp) and probs (row stride $T).
  (func (export "softmax_causal") (param $p i32) (param $q i32) (param $T i32) (param $Tp i32)
    (param $scale f64)
    (local $t i32) (local $n i32) (local $row i32) (local $out i32) (local $at i32)
    (local $end i32) (local $pairs i32)
    (local $scale2 v128) (local $m2 v128) (local $s2 v128) (local $v v128) (local $inv2 v128)
    (local $m f64) (local $sum f64) (local $x f64) (local $inv f64)
    (local.set $scale2 (f64x2.splat (local.get $scale)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $t) (local.get $T)))
        (local.set $n (i32.add (local.get $t) (i32.const 1)))
        ;; byte addresses of the row's first score and first probability
        (local.set $row
          (i32.add (local.get $p) (i32.shl (i32.mul (local.get $t) (local.get $Tp)) (i32.const 3))))
        (local.set $out
          (i32.add (local.get $q) (i32.shl (i32.mul (local.get $t) (local.get $T)) (i32.const 2))))
        (local.set $end (i32.add (local.get $row) (i32.shl (local.get $n) (i32.const 3))))
        ;; pairs end: the last even count of keys
        (local.set $pairs
          (i32.add (local.get $row)
            (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
        ;; pass 1: scale in place, running max
        (local.set $m2 (v128.const f64x2 -3.4028234663852886e38 -3.4028234663852886e38))
        (local.set $at (local.get $row))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $at) (local.get $pairs)))
            (local.set $v (f64x2.mul (v128.load (local.get $at)) (local.get $scale2)))
            (v128.store (local.get $at) (local.get $v))
            (local.set $m2 (f64x2.max (local.get $m2) (local.get $v)))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (br $l1)))
        (local.set $m
          (f64.max (f64x2.extract_lane 0 (local.get $m2)) (f64x2.extract_lane 1 (local.get $m2))))
        (if (i32.lt_u (local.get $at) (local.get $end))
          (then
            (local.set $x (f64.mul (f64.load (local.get $at)) (local.get $scale)))
            (f64.store (local.get $at) (local.get $x))
            (local.set $m (f64.max (local.get $m) (local.get $x)))))
        ;; pass 2: exponentials and their sum
        (local.set $m2 (f64x2.splat (local.get $m)))
        (local.set $s2 (v128.const f64x2 0 0))
        (local.set $at (local.get $row))
        (block $d2
          (loop $l2
            (br_if $d2 (i32.ge_u (local.get $at) (local.get $pairs)))
            (local.set $v (call $exp2 (f64x2.sub (v128.load (local.get $at)) (local.get $m2))))
            (v128.store (local.get $at) (local.get $v))
            (local.set $s2 (f64x2.add (local.get $s2) (local.get $v)))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (br $l2)))
        (local.set $sum
          (f64.add (f64x2.extract_lane 0 (local.get $s2)) (f64x2.extract_lane 1 (local.get $s2))))
        (if (i32.lt_u (local.get $at) (local.get $end))
          (then
            (local.set $x
              (f64x2.extract_lane 0
                (call $exp2 (f64x2.splat (f64.sub (f64.load (local.get $at)) (local.get $m))))))
            (f64.store (local.get $at) (local.get $x))
            (local.set $sum (f64.add (local.get $sum) (local.get $x)))))
        ;; pass 3: normalise, and the float32 copy
        (local.set $inv
          (select (f64.div (f64.const 1) (local.get $sum)) (f64.const 0)
            (f64.gt (local.get $sum) (f64.const 0))))
        (local.set $inv2 (f64x2.splat (local.get $inv)))
        (local.set $at (local.get $row))
        (block $d3
          (loop $l3
            (br_if $d3 (i32.ge_u (local.get $at) (local.get $pairs)))
            (local.set $v (f64x2.mul (v128.load (local.get $at)) (local.get $inv2)))
            (v128.store (local.get $at) (local.get $v))
            (v128.store64_lane 0 (local.get $out) (f32x4.demote_f64x2_zero (local.get $v)))
            (local.set $out (i32.add (local.get $out) (i32.const 8)))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (br $l3)))
        (if (i32.lt_u (local.get $at) (local.get $end))
          (then
            (local.set $x (f64.mul (f64.load (local.get $at)) (local.get $inv)))
            (f64.store (local.get $at) (local.get $x))
            (f32.store (local.get $out) (f32.demote_f64 (local.get $x)))
            (local.set $out (i32.add (local.get $out) (i32.const 4)))))
        ;; zeros past the diagonal: P to Tp columns, probs to T
        (memory.fill (local.get $end) (i32.const 0)
          (i32.shl (i32.sub (local.get $Tp) (local.get $n)) (i32.const 3)))
        (memory.fill (local.get $out) (i32.const 0)
          (i32.shl (i32.sub (local.get $T) (local.get $n)) (i32.const 2)))
        (local.set $t (local.get $n))
        (br $rows))))
)
