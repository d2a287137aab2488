;; The tanh-form GELU and its derivative times a gradient, four f32 lanes at a time (WebAssembly
;; SIMD), for the CPU backend's GELU ports (src/gpu/host/kernels/elementwise_*.ts through
;; src/gpu/host/wasm/gelu.ts). Same formula as src/gpu/host/kernels/gelu.ts:
;;   u = K(x + C x^3), t = exp(-2|u|) <= 1, sigmoid(2u) = (u >= 0 ? 1 : t) / (1 + t),
;;   gelu(x) = x sigmoid(2u), gelu'(x) = sigmoid(2u) + 2 x K(1 + 3C x^2) t / (1 + t)^2,
;; the second term dropped where t is 0.
;; t in f32: a = -2K|x + C x^3|, exp(a) by range reduction, a clamped to >= -104 (t is 0 below
;; that, where exp(a) < 2^-150), k = nearest(a log2 e) read from the mantissa of
;; a log2 e + 1.5 2^23, r = a - k ln2 (Cody-Waite, two parts), e^r by the Cephes expf polynomial,
;; 2^k = 2^k1 2^k2 built from exponent bits ((k + 127) << 23, k1 = k >> 1, k2 = k - k1, so
;; results below 2^-126 round once into the subnormals). The rest (1 + t, the division, the
;; derivative's second term, the products with x and dy) in f64 (f64x2 halves), rounded to f32
;; once at the store, as the float64 scalar port does. Nothing overflows for any finite x
;; (x^3 may reach +-inf in f32, which gives t = 0 and gelu = x or -0, gelu' = 1 or 0, as in
;; float64); NaN stays NaN.
;; Memory: the caller's floats; counts are multiples of 4 (the loader pads).
;; Compiled into gelu_wasm.ts by build.ts (deno task gen:wasm).
(module
  (memory (export "memory") 1)

  ;; data[p .. p + 4n) = gelu(data[...]), in place; n a multiple of 4.
  (func (export "gelu_forward") (param $p i32) (param $n i32)
    (local $end i32)
    (local $x v128) (local $in v128) (local $a v128) (local $j v128) (local $k v128)
    (local $k1 v128) (local $r v128) (local $e v128) (local $t v128) (local $num v128)
    (local $lo v128) (local $hi v128)
    ;; constants, hoisted
    (local $c_c v128) (local $c_m2k v128) (local $c_min v128) (local $c_log2e v128)
    (local $c_shift v128) (local $c_shift_bits v128) (local $c_ln2hi v128) (local $c_ln2lo v128)
    (local $c_p0 v128) (local $c_p1 v128) (local $c_p2 v128) (local $c_p3 v128) (local $c_p4 v128)
    (local $c_p5 v128) (local $c_one v128) (local $c_bias v128) (local $c_one64 v128)
    (local.set $c_c (v128.const f32x4 0.044715 0.044715 0.044715 0.044715))
    (local.set $c_m2k
      (v128.const f32x4 -1.5957691216057308 -1.5957691216057308 -1.5957691216057308
        -1.5957691216057308))
    (local.set $c_min (v128.const f32x4 -104 -104 -104 -104))
    (local.set $c_log2e
      (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341
        1.44269504088896341))
    (local.set $c_shift (v128.const f32x4 12582912 12582912 12582912 12582912))
    (local.set $c_shift_bits (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000))
    (local.set $c_ln2hi (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
    (local.set $c_ln2lo
      (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
    (local.set $c_p0
      (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $c_p1
      (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3))
    (local.set $c_p2
      (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3))
    (local.set $c_p3
      (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2))
    (local.set $c_p4
      (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1))
    (local.set $c_p5
      (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
    (local.set $c_one (v128.const f32x4 1 1 1 1))
    (local.set $c_bias (v128.const i32x4 127 127 127 127))
    (local.set $c_one64 (v128.const f64x2 1 1))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (v128.load (local.get $p)))
        ;; in = x + C x^3 (u = K in), a = -2|u|
        (local.set $in
          (f32x4.add (local.get $x)
            (f32x4.mul (f32x4.mul (local.get $c_c) (local.get $x))
              (f32x4.mul (local.get $x) (local.get $x)))))
        (local.set $a (f32x4.mul (local.get $c_m2k) (f32x4.abs (local.get $in))))
        ;; ---- t = exp(a) (same block in gelu_backward) ----
        (local.set $j
          (f32x4.add
            (f32x4.mul (f32x4.pmax (local.get $a) (local.get $c_min)) (local.get $c_log2e))
            (local.get $c_shift)))
        (local.set $k (i32x4.sub (local.get $j) (local.get $c_shift_bits)))
        (local.set $j (f32x4.sub (local.get $j) (local.get $c_shift)))
        (local.set $r
          (f32x4.sub
            (f32x4.sub (f32x4.pmax (local.get $a) (local.get $c_min))
              (f32x4.mul (local.get $j) (local.get $c_ln2hi)))
            (f32x4.mul (local.get $j) (local.get $c_ln2lo))))
        (local.set $e (f32x4.add (f32x4.mul (local.get $c_p0) (local.get $r)) (local.get $c_p1)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $c_p2)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $c_p3)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $c_p4)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $c_p5)))
        (local.set $e
          (f32x4.add
            (f32x4.add
              (f32x4.mul (local.get $e) (f32x4.mul (local.get $r) (local.get $r)))
              (local.get $r))
            (local.get $c_one)))
        (local.set $k1 (i32x4.shr_s (local.get $k) (i32.const 1)))
        (local.set $t
          (v128.andnot
            (f32x4.mul
              (f32x4.mul (local.get $e)
                (i32x4.shl (i32x4.add (local.get $k1) (local.get $c_bias)) (i32.const 23)))
              (i32x4.shl
                (i32x4.add (i32x4.sub (local.get $k) (local.get $k1)) (local.get $c_bias))
                (i32.const 23)))
            (f32x4.lt (local.get $a) (local.get $c_min))))
        ;; ---- end of exp ----
        ;; num = u >= 0 ? 1 : t; y = x num / (1 + t) in f64
        (local.set $num
          (v128.bitselect (local.get $c_one) (local.get $t)
            (f32x4.ge (local.get $in) (v128.const f32x4 0 0 0 0))))
        (local.set $lo
          (f64x2.div
            (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x))
              (f64x2.promote_low_f32x4 (local.get $num)))
            (f64x2.add (local.get $c_one64) (f64x2.promote_low_f32x4 (local.get $t)))))
        (local.set $x
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x)))
        (local.set $num
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
            (local.get $num) (local.get $num)))
        (local.set $t
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t) (local.get $t)))
        (local.set $hi
          (f64x2.div
            (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x))
              (f64x2.promote_low_f32x4 (local.get $num)))
            (f64x2.add (local.get $c_one64) (f64x2.promote_low_f32x4 (local.get $t)))))
        (v128.store (local.get $p)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next))))

  ;; dy[i] = dy[i] gelu'(x[i]) for the n floats at px and at pdy; n a multiple of 4.
  (func (export "gelu_backward") (param $px i32) (param $pdy i32) (param $n i32)
    (local $end i32)
    (local $x v128) (local $in v128) (local $a v128) (local $j v128) (local $k v128)
    (local $k1 v128) (local $r v128) (local $e v128) (local $t v128) (local $num v128)
    (local $dy v128) (local $lo v128) (local $hi v128)
    (local $xd v128) (local $td v128) (local $inv v128)
    ;; constants, hoisted
    (local $c_c v128) (local $c_m2k v128) (local $c_min v128) (local $c_log2e v128)
    (local $c_shift v128) (local $c_shift_bits v128) (local $c_ln2hi v128) (local $c_ln2lo v128)
    (local $c_p0 v128) (local $c_p1 v128) (local $c_p2 v128) (local $c_p3 v128) (local $c_p4 v128)
    (local $c_p5 v128) (local $c_one v128) (local $c_bias v128) (local $c_one64 v128)
    (local $c_k64 v128) (local $c_3c64 v128)
    (local.set $c_c (v128.const f32x4 0.044715 0.044715 0.044715 0.044715))
    (local.set $c_m2k
      (v128.const f32x4 -1.5957691216057308 -1.5957691216057308 -1.5957691216057308
        -1.5957691216057308))
    (local.set $c_min (v128.const f32x4 -104 -104 -104 -104))
    (local.set $c_log2e
      (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341
        1.44269504088896341))
    (local.set $c_shift (v128.const f32x4 12582912 12582912 12582912 12582912))
    (local.set $c_shift_bits (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000))
    (local.set $c_ln2hi (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
    (local.set $c_ln2lo
      (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
    (local.set $c_p0
      (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $c_p1
      (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3))
    (local.set $c_p2
      (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3))
    (local.set $c_p3
      (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2))
    (local.set $c_p4
      (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1))
    (local.set $c_p5
      (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
    (local.set $c_one (v128.const f32x4 1 1 1 1))
    (local.set $c_bias (v128.const i32x4 127 127 127 127))
    (local.set $c_one64 (v128.const f64x2 1 1))
    (local.set $c_k64 (v128.const f64x2 0.7978845608028654 0.7978845608028654))
    (local.set $c_3c64 (v128.const f64x2 0.134145 0.134145))
    (local.set $end (i32.add (local.get $px) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $x (v128.load (local.get $px)))
        (local.set $dy (v128.load (local.get $pdy)))
        ;; in = x + C x^3 (u = K in), a = -2|u|
        (local.set $in
          (f32x4.add (local.get $x)
            (f32x4.mul (f32x4.mul (local.get $c_c) (local.get $x))
              (f32x4.mul (local.get $x) (local.get $x)))))
        (local.set $a (f32x4.mul (local.get $c_m2k) (f32x4.abs (local.get $in))))
        ;; ---- t = exp(a) (same block in gelu_forward) ----
        (local.set $j
          (f32x4.add
            (f32x4.mul (f32x4.pmax (local.get $a) (local.get $c_min)) (local.get $c_log2e))
            (local.get $c_shift)))
        (local.set $k (i32x4.sub (local.get $j) (local.get $c_shift_bits)))
        (local.set $j (f32x4.sub (local.get $j) (local.get $c_shift)))
        (local.set $r
          (f32x4.sub
            (f32x4.sub (f32x4.pmax (local.get $a) (local.get $c_min))
              (f32x4.mul (local.get $j) (local.get $c_ln2hi)))
            (f32x4.mul (local.get $j) (local.get $c_ln2lo))))
        (local.set $e (f32x4.add (f32x4.mul (local.get $c_p0) (local.get $r)) (local.get $c_p1)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $c_p2)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $c_p3)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $c_p4)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $c_p5)))
        (local.set $e
          (f32x4.add
            (f32x4.add
              (f32x4.mul (local.get $e) (f32x4.mul (local.get $r) (local.get $r)))
              (local.get $r))
            (local.get $c_one)))
        (local.set $k1 (i32x4.shr_s (local.get $k) (i32.const 1)))
        (local.set $t
          (v128.andnot
            (f32x4.mul
              (f32x4.mul (local.get $e)
                (i32x4.shl (i32x4.add (local.get $k1) (local.get $c_bias)) (i32.const 23)))
              (i32x4.shl
                (i32x4.add (i32x4.sub (local.get $k) (local.get $k1)) (local.get $c_bias))
                (i32.const 23)))
            (f32x4.lt (local.get $a) (local.get $c_min))))
        ;; ---- end of exp ----
        (local.set $num
          (v128.bitselect (local.get $c_one) (local.get $t)
            (f32x4.ge (local.get $in) (v128.const f32x4 0 0 0 0))))
        ;; in f64, per half: inv = 1 / (1 + t),
        ;; dy (num inv + (t != 0 ? 2 x K(1 + 3C x^2) t inv inv : 0))
        (local.set $xd (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $td (f64x2.promote_low_f32x4 (local.get $t)))
        (local.set $inv (f64x2.div (local.get $c_one64) (f64x2.add (local.get $c_one64) (local.get $td))))
        (local.set $lo
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $dy))
            (f64x2.add
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $num)) (local.get $inv))
              (v128.and
                (f64x2.mul
                  (f64x2.mul
                    (f64x2.mul (f64x2.add (local.get $xd) (local.get $xd))
                      (f64x2.mul (local.get $c_k64)
                        (f64x2.add (local.get $c_one64)
                          (f64x2.mul (local.get $c_3c64)
                            (f64x2.mul (local.get $xd) (local.get $xd))))))
                    (f64x2.mul (local.get $td) (local.get $inv)))
                  (local.get $inv))
                (f64x2.ne (local.get $td) (v128.const f64x2 0 0))))))
        (local.set $x
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x)))
        (local.set $t
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t) (local.get $t)))
        (local.set $num
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
            (local.get $num) (local.get $num)))
        (local.set $dy
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $dy) (local.get $dy)))
        (local.set $xd (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $td (f64x2.promote_low_f32x4 (local.get $t)))
        (local.set $inv (f64x2.div (local.get $c_one64) (f64x2.add (local.get $c_one64) (local.get $td))))
        (local.set $hi
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $dy))
            (f64x2.add
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $num)) (local.get $inv))
              (v128.and
                (f64x2.mul
                  (f64x2.mul
                    (f64x2.mul (f64x2.add (local.get $xd) (local.get $xd))
                      (f64x2.mul (local.get $c_k64)
                        (f64x2.add (local.get $c_one64)
                          (f64x2.mul (local.get $c_3c64)
                            (f64x2.mul (local.get $xd) (local.get $xd))))))
                    (f64x2.mul (local.get $td) (local.get $inv)))
                  (local.get $inv))
                (f64x2.ne (local.get $td) (v128.const f64x2 0 0))))))
        (v128.store (local.get $pdy)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $pdy (i32.add (local.get $pdy) (i32.const 16)))
        (br $next)))))
