;; The Simfluence ridge solver's sparse products for the CPU backend's ports
;; (../solver_rows.ts, ../solver_cols.ts through ./solver.ts), in WebAssembly SIMD: test examples
;; are the fastest axis, and each step of the inner loops takes 4 of them (one f32x4 load, two
;; f64x2 halves). Arithmetic is the scalar ports', operation for operation: f32 inputs promoted to
;; f64, counts as f64, sums in f64 in the same order (entries four at a time
;; ((c0 v0 + c1 v1) + c2 v2) + c3 v3 added to the accumulator, then one at a time), each result
;; rounded to f32 once at its store; so the results are bit-identical to the scalar ports'.
;; Memory: byte addresses from the loader; f32 arrays hold mP floats a row, f64 scratch arrays
;; (accumulators, λ) hold mP doubles; ranges are i32 pairs [z0, z1) of lanes, multiples of 4.
;; Compiled into solver_wasm.ts by src/gpu/host/wasm/build.ts (deno task gen:wasm).
(module
  (memory (export "memory") 1)

  ;; Zeroes the f64 scratch array at $p over the lane ranges.
  (func $zero (param $p i32) (param $ranges i32) (param $nr i32)
    (local $g i32) (local $z i32) (local $z1 i32)
    (local.set $g (i32.const 0))
    (block $gd
      (loop $gl
        (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
        (local.set $z (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
        (local.set $z1
          (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
        (block $zd
          (loop $zl
            (br_if $zd (i32.ge_u (local.get $z) (local.get $z1)))
            (v128.store (i32.add (local.get $p) (i32.shl (local.get $z) (i32.const 3)))
              (v128.const i64x2 0 0))
            (v128.store offset=16 (i32.add (local.get $p) (i32.shl (local.get $z) (i32.const 3)))
              (v128.const i64x2 0 0))
            (local.set $z (i32.add (local.get $z) (i32.const 4)))
            (br $zl)))
        (local.set $g (i32.add (local.get $g) (i32.const 2)))
        (br $gl))))

  ;; Rounds f64x2 $x to f32 and stores the two floats at $p.
  (func $st2 (param $p i32) (param $x v128)
    (i64.store (local.get $p) (i64x2.extract_lane 0 (f32x4.demote_f64x2_zero (local.get $x)))))

  ;; u = X·v for rows [0, rows): see ../solver_rows.ts. $csr: rowPtr[rows + 1], pairs from
  ;; element $base; $v: [2, n, mP] with block B $bb bytes after A; $lprev, $u: [rows, mP];
  ;; $sa, $sb: f64 scratch.
  (func (export "solver_rows")
    (param $csr i32) (param $base i32) (param $rows i32) (param $v i32) (param $bb i32)
    (param $lprev i32) (param $u i32) (param $mP i32) (param $ranges i32) (param $nr i32)
    (param $sa i32) (param $sb i32)
    (local $r i32) (local $e i32) (local $end i32) (local $at i32) (local $g i32)
    (local $z i32) (local $z1 i32) (local $zf i32) (local $zd i32) (local $row4 i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $k i32) (local $h i32)
    ;; bytes per row of f32
    (local.set $row4 (i32.shl (local.get $mP) (i32.const 2)))
    (local.set $r (i32.const 0))
    (block $rd
      (loop $rl
        (br_if $rd (i32.ge_u (local.get $r) (local.get $rows)))
        (call $zero (local.get $sa) (local.get $ranges) (local.get $nr))
        (call $zero (local.get $sb) (local.get $ranges) (local.get $nr))
        (local.set $e (i32.load (i32.add (local.get $csr) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $end
          (i32.load offset=4 (i32.add (local.get $csr) (i32.shl (local.get $r) (i32.const 2)))))
        ;; four entries a pass
        (block $qd
          (loop $ql
            (br_if $qd (i32.gt_u (i32.add (local.get $e) (i32.const 4)) (local.get $end)))
            (local.set $at
              (i32.add (local.get $csr)
                (i32.shl (i32.add (local.get $base) (i32.shl (local.get $e) (i32.const 1)))
                  (i32.const 2))))
            (local.set $c0 (f64x2.splat (f64.convert_i32_u (i32.load offset=4 (local.get $at)))))
            (local.set $c1 (f64x2.splat (f64.convert_i32_u (i32.load offset=12 (local.get $at)))))
            (local.set $c2 (f64x2.splat (f64.convert_i32_u (i32.load offset=20 (local.get $at)))))
            (local.set $c3 (f64x2.splat (f64.convert_i32_u (i32.load offset=28 (local.get $at)))))
            (local.set $a0 (i32.add (local.get $v)
              (i32.mul (i32.load (local.get $at)) (local.get $row4))))
            (local.set $a1 (i32.add (local.get $v)
              (i32.mul (i32.load offset=8 (local.get $at)) (local.get $row4))))
            (local.set $a2 (i32.add (local.get $v)
              (i32.mul (i32.load offset=16 (local.get $at)) (local.get $row4))))
            (local.set $a3 (i32.add (local.get $v)
              (i32.mul (i32.load offset=24 (local.get $at)) (local.get $row4))))
            (local.set $g (i32.const 0))
            (block $gd
              (loop $gl
                (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                (local.set $z (i32.load
                  (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
                (local.set $z1 (i32.load offset=4
                  (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
                (block $zd
                  (loop $zl
                    (br_if $zd (i32.ge_u (local.get $z) (local.get $z1)))
                    ;; two halves of 2 lanes: $h = 0, 8 bytes of f32 (16 of f64)
                    (local.set $h (i32.const 0))
                    (loop $hl
                      (local.set $zf (i32.add (i32.shl (local.get $z) (i32.const 2)) (local.get $h)))
                      (local.set $zd (i32.add (i32.shl (local.get $z) (i32.const 3))
                        (i32.shl (local.get $h) (i32.const 1))))
                      (v128.store (i32.add (local.get $sa) (local.get $zd))
                        (f64x2.add (v128.load (i32.add (local.get $sa) (local.get $zd)))
                          (f64x2.add
                            (f64x2.add
                              (f64x2.add
                                (f64x2.mul (local.get $c0)
                                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a0) (local.get $zf)))))
                                (f64x2.mul (local.get $c1)
                                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a1) (local.get $zf))))))
                              (f64x2.mul (local.get $c2)
                                (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a2) (local.get $zf))))))
                            (f64x2.mul (local.get $c3)
                              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a3) (local.get $zf))))))))
                      (local.set $zf (i32.add (local.get $zf) (local.get $bb)))
                      (v128.store (i32.add (local.get $sb) (local.get $zd))
                        (f64x2.add (v128.load (i32.add (local.get $sb) (local.get $zd)))
                          (f64x2.add
                            (f64x2.add
                              (f64x2.add
                                (f64x2.mul (local.get $c0)
                                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a0) (local.get $zf)))))
                                (f64x2.mul (local.get $c1)
                                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a1) (local.get $zf))))))
                              (f64x2.mul (local.get $c2)
                                (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a2) (local.get $zf))))))
                            (f64x2.mul (local.get $c3)
                              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a3) (local.get $zf))))))))
                      (local.set $h (i32.add (local.get $h) (i32.const 8)))
                      (br_if $hl (i32.lt_u (local.get $h) (i32.const 16))))
                    (local.set $z (i32.add (local.get $z) (i32.const 4)))
                    (br $zl)))
                (local.set $g (i32.add (local.get $g) (i32.const 2)))
                (br $gl)))
            (local.set $e (i32.add (local.get $e) (i32.const 4)))
            (br $ql)))
        ;; the rest, one entry a pass
        (block $od
          (loop $ol
            (br_if $od (i32.ge_u (local.get $e) (local.get $end)))
            (local.set $at
              (i32.add (local.get $csr)
                (i32.shl (i32.add (local.get $base) (i32.shl (local.get $e) (i32.const 1)))
                  (i32.const 2))))
            (local.set $c0 (f64x2.splat (f64.convert_i32_u (i32.load offset=4 (local.get $at)))))
            (local.set $a0 (i32.add (local.get $v)
              (i32.mul (i32.load (local.get $at)) (local.get $row4))))
            (local.set $g (i32.const 0))
            (block $gd
              (loop $gl
                (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                (local.set $z (i32.load
                  (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
                (local.set $z1 (i32.load offset=4
                  (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
                (block $zd
                  (loop $zl
                    (br_if $zd (i32.ge_u (local.get $z) (local.get $z1)))
                    (local.set $h (i32.const 0))
                    (loop $hl
                      (local.set $zf (i32.add (i32.add (local.get $a0)
                        (i32.shl (local.get $z) (i32.const 2))) (local.get $h)))
                      (local.set $zd (i32.add (i32.shl (local.get $z) (i32.const 3))
                        (i32.shl (local.get $h) (i32.const 1))))
                      (v128.store (i32.add (local.get $sa) (local.get $zd))
                        (f64x2.add (v128.load (i32.add (local.get $sa) (local.get $zd)))
                          (f64x2.mul (local.get $c0) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $zf))))))
                      (v128.store (i32.add (local.get $sb) (local.get $zd))
                        (f64x2.add (v128.load (i32.add (local.get $sb) (local.get $zd)))
                          (f64x2.mul (local.get $c0)
                            (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $zf) (local.get $bb)))))))
                      (local.set $h (i32.add (local.get $h) (i32.const 8)))
                      (br_if $hl (i32.lt_u (local.get $h) (i32.const 16))))
                    (local.set $z (i32.add (local.get $z) (i32.const 4)))
                    (br $zl)))
                (local.set $g (i32.add (local.get $g) (i32.const 2)))
                (br $gl)))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $ol)))
        ;; u[r, z] = lprev[r, z]·sa[z] + sb[z]
        (local.set $k (i32.mul (local.get $r) (local.get $row4)))
        (local.set $g (i32.const 0))
        (block $gd
          (loop $gl
            (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
            (local.set $z (i32.load
              (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
            (local.set $z1 (i32.load offset=4
              (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
            (block $zd
              (loop $zl
                (br_if $zd (i32.ge_u (local.get $z) (local.get $z1)))
                (local.set $h (i32.const 0))
                (loop $hl
                  (local.set $zf (i32.add (i32.add (local.get $k)
                    (i32.shl (local.get $z) (i32.const 2))) (local.get $h)))
                  (local.set $zd (i32.add (i32.shl (local.get $z) (i32.const 3))
                    (i32.shl (local.get $h) (i32.const 1))))
                  (call $st2 (i32.add (local.get $u) (local.get $zf))
                    (f64x2.add
                      (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $lprev) (local.get $zf))))
                        (v128.load (i32.add (local.get $sa) (local.get $zd))))
                      (v128.load (i32.add (local.get $sb) (local.get $zd)))))
                  (local.set $h (i32.add (local.get $h) (i32.const 8)))
                  (br_if $hl (i32.lt_u (local.get $h) (i32.const 16))))
                (local.set $z (i32.add (local.get $z) (i32.const 4)))
                (br $zl)))
            (local.set $g (i32.add (local.get $g) (i32.const 2)))
            (br $gl)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rl))))

  ;; q = mask ⊙ (Xᵀ·u) + ridge·p and the chunks' Σ p·q: see ../solver_cols.ts. $csc: colPtr[n + 1],
  ;; pairs from element $base; $lprev, $u: [rows, mP]; $p, $q: [2, n, mP], block B $bb bytes after
  ;; A; $partial: [groups, mP]; $ridge: f64 [mP]; $accA, $accB, $pq: f64 scratch.
  (func (export "solver_cols")
    (param $csc i32) (param $base i32) (param $n i32) (param $perChunk i32) (param $groups i32)
    (param $lprev i32) (param $u i32) (param $p i32) (param $q i32) (param $bb i32)
    (param $partial i32) (param $mP i32) (param $ranges i32) (param $nr i32) (param $ridge i32)
    (param $maskA f64) (param $maskB f64) (param $accA i32) (param $accB i32) (param $pq i32)
    (local $chunk i32) (local $i i32) (local $last i32) (local $e i32) (local $end i32)
    (local $at i32) (local $g i32) (local $z i32) (local $z1 i32) (local $zf i32) (local $zd i32)
    (local $h i32) (local $row4 i32)
    (local $k0 i32) (local $k1 i32) (local $k2 i32) (local $k3 i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $cu0 v128) (local $cu1 v128) (local $cu2 v128) (local $cu3 v128)
    (local $mA v128) (local $mB v128) (local $rg v128) (local $pa v128) (local $pb v128)
    (local $qa v128) (local $qb v128)
    (local.set $row4 (i32.shl (local.get $mP) (i32.const 2)))
    (local.set $mA (f64x2.splat (local.get $maskA)))
    (local.set $mB (f64x2.splat (local.get $maskB)))
    (local.set $chunk (i32.const 0))
    (block $cd
      (loop $cl
        (br_if $cd (i32.ge_u (local.get $chunk) (local.get $groups)))
        (call $zero (local.get $pq) (local.get $ranges) (local.get $nr))
        (local.set $i (i32.mul (local.get $chunk) (local.get $perChunk)))
        (local.set $last (i32.add (local.get $i) (local.get $perChunk)))
        (if (i32.gt_u (local.get $last) (local.get $n)) (then (local.set $last (local.get $n))))
        (block $id
          (loop $il
            (br_if $id (i32.ge_u (local.get $i) (local.get $last)))
            (call $zero (local.get $accA) (local.get $ranges) (local.get $nr))
            (call $zero (local.get $accB) (local.get $ranges) (local.get $nr))
            (local.set $e
              (i32.load (i32.add (local.get $csc) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $end
              (i32.load offset=4 (i32.add (local.get $csc) (i32.shl (local.get $i) (i32.const 2)))))
            ;; four entries a pass
            (block $qd
              (loop $ql
                (br_if $qd (i32.gt_u (i32.add (local.get $e) (i32.const 4)) (local.get $end)))
                (local.set $at
                  (i32.add (local.get $csc)
                    (i32.shl (i32.add (local.get $base) (i32.shl (local.get $e) (i32.const 1)))
                      (i32.const 2))))
                (local.set $c0 (f64x2.splat (f64.convert_i32_u (i32.load offset=4 (local.get $at)))))
                (local.set $c1 (f64x2.splat (f64.convert_i32_u (i32.load offset=12 (local.get $at)))))
                (local.set $c2 (f64x2.splat (f64.convert_i32_u (i32.load offset=20 (local.get $at)))))
                (local.set $c3 (f64x2.splat (f64.convert_i32_u (i32.load offset=28 (local.get $at)))))
                (local.set $k0 (i32.mul (i32.load (local.get $at)) (local.get $row4)))
                (local.set $k1 (i32.mul (i32.load offset=8 (local.get $at)) (local.get $row4)))
                (local.set $k2 (i32.mul (i32.load offset=16 (local.get $at)) (local.get $row4)))
                (local.set $k3 (i32.mul (i32.load offset=24 (local.get $at)) (local.get $row4)))
                (local.set $g (i32.const 0))
                (block $gd
                  (loop $gl
                    (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                    (local.set $z (i32.load
                      (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
                    (local.set $z1 (i32.load offset=4
                      (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
                    (block $zd
                      (loop $zl
                        (br_if $zd (i32.ge_u (local.get $z) (local.get $z1)))
                        (local.set $h (i32.const 0))
                        (loop $hl
                          (local.set $zf (i32.add (i32.shl (local.get $z) (i32.const 2))
                            (local.get $h)))
                          (local.set $zd (i32.add (i32.shl (local.get $z) (i32.const 3))
                            (i32.shl (local.get $h) (i32.const 1))))
                          (local.set $cu0 (f64x2.mul (local.get $c0) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $u) (i32.add (local.get $k0) (local.get $zf)))))))
                          (local.set $cu1 (f64x2.mul (local.get $c1) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $u) (i32.add (local.get $k1) (local.get $zf)))))))
                          (local.set $cu2 (f64x2.mul (local.get $c2) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $u) (i32.add (local.get $k2) (local.get $zf)))))))
                          (local.set $cu3 (f64x2.mul (local.get $c3) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $u) (i32.add (local.get $k3) (local.get $zf)))))))
                          (v128.store (i32.add (local.get $accA) (local.get $zd))
                            (f64x2.add (v128.load (i32.add (local.get $accA) (local.get $zd)))
                              (f64x2.add
                                (f64x2.add
                                  (f64x2.add
                                    (f64x2.mul (local.get $cu0) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add
                                      (local.get $lprev) (i32.add (local.get $k0) (local.get $zf))))))
                                    (f64x2.mul (local.get $cu1) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add
                                      (local.get $lprev) (i32.add (local.get $k1) (local.get $zf)))))))
                                  (f64x2.mul (local.get $cu2) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add
                                    (local.get $lprev) (i32.add (local.get $k2) (local.get $zf)))))))
                                (f64x2.mul (local.get $cu3) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add
                                  (local.get $lprev) (i32.add (local.get $k3) (local.get $zf)))))))))
                          (v128.store (i32.add (local.get $accB) (local.get $zd))
                            (f64x2.add (v128.load (i32.add (local.get $accB) (local.get $zd)))
                              (f64x2.add
                                (f64x2.add (f64x2.add (local.get $cu0) (local.get $cu1))
                                  (local.get $cu2))
                                (local.get $cu3))))
                          (local.set $h (i32.add (local.get $h) (i32.const 8)))
                          (br_if $hl (i32.lt_u (local.get $h) (i32.const 16))))
                        (local.set $z (i32.add (local.get $z) (i32.const 4)))
                        (br $zl)))
                    (local.set $g (i32.add (local.get $g) (i32.const 2)))
                    (br $gl)))
                (local.set $e (i32.add (local.get $e) (i32.const 4)))
                (br $ql)))
            ;; the rest, one entry a pass
            (block $od
              (loop $ol
                (br_if $od (i32.ge_u (local.get $e) (local.get $end)))
                (local.set $at
                  (i32.add (local.get $csc)
                    (i32.shl (i32.add (local.get $base) (i32.shl (local.get $e) (i32.const 1)))
                      (i32.const 2))))
                (local.set $c0 (f64x2.splat (f64.convert_i32_u (i32.load offset=4 (local.get $at)))))
                (local.set $k0 (i32.mul (i32.load (local.get $at)) (local.get $row4)))
                (local.set $g (i32.const 0))
                (block $gd
                  (loop $gl
                    (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                    (local.set $z (i32.load
                      (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
                    (local.set $z1 (i32.load offset=4
                      (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
                    (block $zd
                      (loop $zl
                        (br_if $zd (i32.ge_u (local.get $z) (local.get $z1)))
                        (local.set $h (i32.const 0))
                        (loop $hl
                          (local.set $zf (i32.add (i32.add (local.get $k0)
                            (i32.shl (local.get $z) (i32.const 2))) (local.get $h)))
                          (local.set $zd (i32.add (i32.shl (local.get $z) (i32.const 3))
                            (i32.shl (local.get $h) (i32.const 1))))
                          (local.set $cu0 (f64x2.mul (local.get $c0)
                            (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $u) (local.get $zf))))))
                          (v128.store (i32.add (local.get $accA) (local.get $zd))
                            (f64x2.add (v128.load (i32.add (local.get $accA) (local.get $zd)))
                              (f64x2.mul (local.get $cu0)
                                (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $lprev) (local.get $zf)))))))
                          (v128.store (i32.add (local.get $accB) (local.get $zd))
                            (f64x2.add (v128.load (i32.add (local.get $accB) (local.get $zd)))
                              (local.get $cu0)))
                          (local.set $h (i32.add (local.get $h) (i32.const 8)))
                          (br_if $hl (i32.lt_u (local.get $h) (i32.const 16))))
                        (local.set $z (i32.add (local.get $z) (i32.const 4)))
                        (br $zl)))
                    (local.set $g (i32.add (local.get $g) (i32.const 2)))
                    (br $gl)))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $ol)))
            ;; q = mask·acc + ridge·p (rounded to f32), pq += p_A·q_A + p_B·q_B
            (local.set $k0 (i32.mul (local.get $i) (local.get $row4)))
            (local.set $g (i32.const 0))
            (block $gd
              (loop $gl
                (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                (local.set $z (i32.load
                  (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
                (local.set $z1 (i32.load offset=4
                  (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
                (block $zd
                  (loop $zl
                    (br_if $zd (i32.ge_u (local.get $z) (local.get $z1)))
                    (local.set $h (i32.const 0))
                    (loop $hl
                      (local.set $zf (i32.add (i32.add (local.get $k0)
                        (i32.shl (local.get $z) (i32.const 2))) (local.get $h)))
                      (local.set $zd (i32.add (i32.shl (local.get $z) (i32.const 3))
                        (i32.shl (local.get $h) (i32.const 1))))
                      (local.set $rg (v128.load (i32.add (local.get $ridge) (local.get $zd))))
                      (local.set $pa (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $p) (local.get $zf)))))
                      (local.set $pb (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (i32.add (local.get $p) (local.get $bb)) (local.get $zf)))))
                      (local.set $qa (f32x4.demote_f64x2_zero (f64x2.add
                        (f64x2.mul (local.get $mA)
                          (v128.load (i32.add (local.get $accA) (local.get $zd))))
                        (f64x2.mul (local.get $rg) (local.get $pa)))))
                      (local.set $qb (f32x4.demote_f64x2_zero (f64x2.add
                        (f64x2.mul (local.get $mB)
                          (v128.load (i32.add (local.get $accB) (local.get $zd))))
                        (f64x2.mul (local.get $rg) (local.get $pb)))))
                      (i64.store (i32.add (local.get $q) (local.get $zf))
                        (i64x2.extract_lane 0 (local.get $qa)))
                      (i64.store (i32.add (i32.add (local.get $q) (local.get $bb)) (local.get $zf))
                        (i64x2.extract_lane 0 (local.get $qb)))
                      (v128.store (i32.add (local.get $pq) (local.get $zd))
                        (f64x2.add (v128.load (i32.add (local.get $pq) (local.get $zd)))
                          (f64x2.add
                            (f64x2.mul (local.get $pa) (f64x2.promote_low_f32x4 (local.get $qa)))
                            (f64x2.mul (local.get $pb) (f64x2.promote_low_f32x4 (local.get $qb))))))
                      (local.set $h (i32.add (local.get $h) (i32.const 8)))
                      (br_if $hl (i32.lt_u (local.get $h) (i32.const 16))))
                    (local.set $z (i32.add (local.get $z) (i32.const 4)))
                    (br $zl)))
                (local.set $g (i32.add (local.get $g) (i32.const 2)))
                (br $gl)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
        ;; partial[chunk, z] = pq[z]
        (local.set $k0 (i32.mul (local.get $chunk) (local.get $row4)))
        (local.set $g (i32.const 0))
        (block $gd
          (loop $gl
            (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
            (local.set $z (i32.load
              (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
            (local.set $z1 (i32.load offset=4
              (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))))
            (block $zd
              (loop $zl
                (br_if $zd (i32.ge_u (local.get $z) (local.get $z1)))
                (call $st2
                  (i32.add (local.get $partial)
                    (i32.add (local.get $k0) (i32.shl (local.get $z) (i32.const 2))))
                  (v128.load (i32.add (local.get $pq) (i32.shl (local.get $z) (i32.const 3)))))
                (call $st2
                  (i32.add (i32.add (local.get $partial) (i32.const 8))
                    (i32.add (local.get $k0) (i32.shl (local.get $z) (i32.const 2))))
                  (v128.load offset=16
                    (i32.add (local.get $pq) (i32.shl (local.get $z) (i32.const 3)))))
                (local.set $z (i32.add (local.get $z) (i32.const 4)))
                (br $zl)))
            (local.set $g (i32.add (local.get $g) (i32.const 2)))
            (br $gl)))
        (local.set $chunk (i32.add (local.get $chunk) (i32.const 1)))
        (br $cl)))))
