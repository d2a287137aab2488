;; The Simfluence ridge solver's sparse products for the CPU backend's ports
;; (../solver_rows.ts, ../solver_cols.ts through ./solver.ts), in WebAssembly SIMD: test examples
;; are the fastest axis, one f32x4 holds the 4 lanes of a WGSL vec4, and the arithmetic is the
;; shaders' (shaders/simfluence_solver_rows.wgsl, simfluence_solver_cols.wgsl): f32 throughout,
;; the design's entries added one at a time in CSR/CSC order (four a pass, in sequence), no fused
;; multiply-adds. (The scalar ports sum in float64; the results differ in the last bits.)
;; Memory: byte addresses from the loader; arrays hold mP floats a row; ranges are i32 pairs
;; [z0, z1) of lanes, multiples of 4; the lane loops over them are written out in full at each
;; use. After an edit, `deno task gen:wasm` (src/gpu/host/wasm/build.ts) rewrites solver_wasm.ts.
(module
  (memory (export "memory") 1)

  ;; u = X·v for rows [0, rows) (shaders/simfluence_solver_rows.wgsl). $csr: rowPtr[rows + 1], pairs
  ;; from element $base; $v: [2, n, mP], block B $bb bytes after A; $lprev, $u: [rows, mP];
  ;; $sa, $sb: f32 scratch [mP].
  (func (export "solver_rows")
    (param $csr i32) (param $base i32) (param $rows i32) (param $v i32) (param $bb i32)
    (param $lprev i32) (param $u i32) (param $mP i32) (param $ranges i32) (param $nr i32)
    (param $sa i32) (param $sb i32)
    (local $r i32) (local $e i32) (local $end i32) (local $at i32) (local $g i32)
    (local $zf i32) (local $z1 i32) (local $row4 i32) (local $k i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $row4 (i32.shl (local.get $mP) (i32.const 2)))
    (block $rd
      (loop $rl
        (br_if $rd (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $g (i32.const 0))
        (block $gd
          (loop $gl
            (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
            (local.set $zf (i32.shl (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
            (local.set $z1 (i32.shl (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
            (block $zd
              (loop $zl
                (br_if $zd (i32.ge_u (local.get $zf) (local.get $z1)))
                (v128.store (i32.add (local.get $sa) (local.get $zf)) (v128.const i64x2 0 0))
                (v128.store (i32.add (local.get $sb) (local.get $zf)) (v128.const i64x2 0 0))
                (local.set $zf (i32.add (local.get $zf) (i32.const 16)))
                (br $zl)))
            (local.set $g (i32.add (local.get $g) (i32.const 2)))
            (br $gl)))
        (local.set $e (i32.load (i32.add (local.get $csr) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $end (i32.load offset=4 (i32.add (local.get $csr) (i32.shl (local.get $r) (i32.const 2)))))
        ;; four entries a pass, added one at a time
        (block $qd
          (loop $ql
            (br_if $qd (i32.gt_u (i32.add (local.get $e) (i32.const 4)) (local.get $end)))
            (local.set $at (i32.add (local.get $csr) (i32.shl (i32.add (local.get $base) (i32.shl (local.get $e) (i32.const 1))) (i32.const 2))))
            (local.set $c0 (f32x4.splat (f32.convert_i32_u (i32.load offset=4 (local.get $at)))))
            (local.set $c1 (f32x4.splat (f32.convert_i32_u (i32.load offset=12 (local.get $at)))))
            (local.set $c2 (f32x4.splat (f32.convert_i32_u (i32.load offset=20 (local.get $at)))))
            (local.set $c3 (f32x4.splat (f32.convert_i32_u (i32.load offset=28 (local.get $at)))))
            (local.set $a0 (i32.add (local.get $v) (i32.mul (i32.load offset=0 (local.get $at)) (local.get $row4))))
            (local.set $a1 (i32.add (local.get $v) (i32.mul (i32.load offset=8 (local.get $at)) (local.get $row4))))
            (local.set $a2 (i32.add (local.get $v) (i32.mul (i32.load offset=16 (local.get $at)) (local.get $row4))))
            (local.set $a3 (i32.add (local.get $v) (i32.mul (i32.load offset=24 (local.get $at)) (local.get $row4))))
            (local.set $g (i32.const 0))
            (block $gd
              (loop $gl
                (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                (local.set $zf (i32.shl (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                (local.set $z1 (i32.shl (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                (block $zd
                  (loop $zl
                    (br_if $zd (i32.ge_u (local.get $zf) (local.get $z1)))
                    (v128.store (i32.add (local.get $sa) (local.get $zf)) (f32x4.add (f32x4.add (f32x4.add (f32x4.add (v128.load (i32.add (local.get $sa) (local.get $zf))) (f32x4.mul (local.get $c0) (v128.load (i32.add (local.get $a0) (local.get $zf))))) (f32x4.mul (local.get $c1) (v128.load (i32.add (local.get $a1) (local.get $zf))))) (f32x4.mul (local.get $c2) (v128.load (i32.add (local.get $a2) (local.get $zf))))) (f32x4.mul (local.get $c3) (v128.load (i32.add (local.get $a3) (local.get $zf))))))
                    (local.set $k (i32.add (local.get $zf) (local.get $bb)))
                    (v128.store (i32.add (local.get $sb) (local.get $zf)) (f32x4.add (f32x4.add (f32x4.add (f32x4.add (v128.load (i32.add (local.get $sb) (local.get $zf))) (f32x4.mul (local.get $c0) (v128.load (i32.add (local.get $a0) (local.get $k))))) (f32x4.mul (local.get $c1) (v128.load (i32.add (local.get $a1) (local.get $k))))) (f32x4.mul (local.get $c2) (v128.load (i32.add (local.get $a2) (local.get $k))))) (f32x4.mul (local.get $c3) (v128.load (i32.add (local.get $a3) (local.get $k))))))
                    (local.set $zf (i32.add (local.get $zf) (i32.const 16)))
                    (br $zl)))
                (local.set $g (i32.add (local.get $g) (i32.const 2)))
                (br $gl)))
            (local.set $e (i32.add (local.get $e) (i32.const 4)))
            (br $ql)))
        (block $od
          (loop $ol
            (br_if $od (i32.ge_u (local.get $e) (local.get $end)))
            (local.set $at (i32.add (local.get $csr) (i32.shl (i32.add (local.get $base) (i32.shl (local.get $e) (i32.const 1))) (i32.const 2))))
            (local.set $c0 (f32x4.splat (f32.convert_i32_u (i32.load offset=4 (local.get $at)))))
            (local.set $a0 (i32.add (local.get $v) (i32.mul (i32.load (local.get $at)) (local.get $row4))))
            (local.set $g (i32.const 0))
            (block $gd
              (loop $gl
                (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                (local.set $zf (i32.shl (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                (local.set $z1 (i32.shl (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                (block $zd
                  (loop $zl
                    (br_if $zd (i32.ge_u (local.get $zf) (local.get $z1)))
                    (v128.store (i32.add (local.get $sa) (local.get $zf)) (f32x4.add (v128.load (i32.add (local.get $sa) (local.get $zf))) (f32x4.mul (local.get $c0) (v128.load (i32.add (local.get $a0) (local.get $zf))))))
                    (v128.store (i32.add (local.get $sb) (local.get $zf)) (f32x4.add (v128.load (i32.add (local.get $sb) (local.get $zf))) (f32x4.mul (local.get $c0) (v128.load (i32.add (local.get $a0) (i32.add (local.get $zf) (local.get $bb)))))))
                    (local.set $zf (i32.add (local.get $zf) (i32.const 16)))
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
            (local.set $zf (i32.shl (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
            (local.set $z1 (i32.shl (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
            (block $zd
              (loop $zl
                (br_if $zd (i32.ge_u (local.get $zf) (local.get $z1)))
                (v128.store (i32.add (local.get $u) (i32.add (local.get $k) (local.get $zf))) (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $lprev) (i32.add (local.get $k) (local.get $zf)))) (v128.load (i32.add (local.get $sa) (local.get $zf)))) (v128.load (i32.add (local.get $sb) (local.get $zf)))))
                (local.set $zf (i32.add (local.get $zf) (i32.const 16)))
                (br $zl)))
            (local.set $g (i32.add (local.get $g) (i32.const 2)))
            (br $gl)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rl))))

  ;; q = mask ⊙ (Xᵀ·u) + ridge·p and the chunks' Σ p·q (shaders/simfluence_solver_cols.wgsl).
  ;; $csc: colPtr[n + 1], pairs from element $base; $lprev, $u: [rows, mP]; $p, $q: [2, n, mP],
  ;; block B $bb bytes after A; $partial: [groups, mP]; $ridge: [mP] (λ or 0); $accA, $accB, $pq:
  ;; f32 scratch [mP].
  (func (export "solver_cols")
    (param $csc i32) (param $base i32) (param $n i32) (param $perChunk i32) (param $groups i32)
    (param $lprev i32) (param $u i32) (param $p i32) (param $q i32) (param $bb i32)
    (param $partial i32) (param $mP i32) (param $ranges i32) (param $nr i32) (param $ridge i32)
    (param $maskA f32) (param $maskB f32) (param $accA i32) (param $accB i32) (param $pq i32)
    (local $chunk i32) (local $i i32) (local $last i32) (local $e i32) (local $end i32)
    (local $at i32) (local $g i32) (local $zf i32) (local $z1 i32) (local $row4 i32)
    (local $k0 i32) (local $k1 i32) (local $k2 i32) (local $k3 i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $cu0 v128) (local $cu1 v128) (local $cu2 v128) (local $cu3 v128)
    (local $mA v128) (local $mB v128) (local $rg v128) (local $pa v128) (local $pb v128)
    (local $qa v128) (local $qb v128)
    (local.set $row4 (i32.shl (local.get $mP) (i32.const 2)))
    (local.set $mA (f32x4.splat (local.get $maskA)))
    (local.set $mB (f32x4.splat (local.get $maskB)))
    (block $cd
      (loop $cl
        (br_if $cd (i32.ge_u (local.get $chunk) (local.get $groups)))
        (local.set $g (i32.const 0))
        (block $gd
          (loop $gl
            (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
            (local.set $zf (i32.shl (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
            (local.set $z1 (i32.shl (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
            (block $zd
              (loop $zl
                (br_if $zd (i32.ge_u (local.get $zf) (local.get $z1)))
                (v128.store (i32.add (local.get $pq) (local.get $zf)) (v128.const i64x2 0 0))
                (local.set $zf (i32.add (local.get $zf) (i32.const 16)))
                (br $zl)))
            (local.set $g (i32.add (local.get $g) (i32.const 2)))
            (br $gl)))
        (local.set $i (i32.mul (local.get $chunk) (local.get $perChunk)))
        (local.set $last (i32.add (local.get $i) (local.get $perChunk)))
        (if (i32.gt_u (local.get $last) (local.get $n)) (then (local.set $last (local.get $n))))
        (block $id
          (loop $il
            (br_if $id (i32.ge_u (local.get $i) (local.get $last)))
            (local.set $g (i32.const 0))
            (block $gd
              (loop $gl
                (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                (local.set $zf (i32.shl (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                (local.set $z1 (i32.shl (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                (block $zd
                  (loop $zl
                    (br_if $zd (i32.ge_u (local.get $zf) (local.get $z1)))
                    (v128.store (i32.add (local.get $accA) (local.get $zf)) (v128.const i64x2 0 0))
                    (v128.store (i32.add (local.get $accB) (local.get $zf)) (v128.const i64x2 0 0))
                    (local.set $zf (i32.add (local.get $zf) (i32.const 16)))
                    (br $zl)))
                (local.set $g (i32.add (local.get $g) (i32.const 2)))
                (br $gl)))
            (local.set $e (i32.load (i32.add (local.get $csc) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $end (i32.load offset=4 (i32.add (local.get $csc) (i32.shl (local.get $i) (i32.const 2)))))
            ;; four entries a pass, added one at a time
            (block $qd
              (loop $ql
                (br_if $qd (i32.gt_u (i32.add (local.get $e) (i32.const 4)) (local.get $end)))
                (local.set $at (i32.add (local.get $csc) (i32.shl (i32.add (local.get $base) (i32.shl (local.get $e) (i32.const 1))) (i32.const 2))))
                (local.set $c0 (f32x4.splat (f32.convert_i32_u (i32.load offset=4 (local.get $at)))))
                (local.set $c1 (f32x4.splat (f32.convert_i32_u (i32.load offset=12 (local.get $at)))))
                (local.set $c2 (f32x4.splat (f32.convert_i32_u (i32.load offset=20 (local.get $at)))))
                (local.set $c3 (f32x4.splat (f32.convert_i32_u (i32.load offset=28 (local.get $at)))))
                (local.set $k0 (i32.mul (i32.load offset=0 (local.get $at)) (local.get $row4)))
                (local.set $k1 (i32.mul (i32.load offset=8 (local.get $at)) (local.get $row4)))
                (local.set $k2 (i32.mul (i32.load offset=16 (local.get $at)) (local.get $row4)))
                (local.set $k3 (i32.mul (i32.load offset=24 (local.get $at)) (local.get $row4)))
                (local.set $g (i32.const 0))
                (block $gd
                  (loop $gl
                    (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                    (local.set $zf (i32.shl (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                    (local.set $z1 (i32.shl (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                    (block $zd
                      (loop $zl
                        (br_if $zd (i32.ge_u (local.get $zf) (local.get $z1)))
                        (local.set $cu0 (f32x4.mul (local.get $c0) (v128.load (i32.add (local.get $u) (i32.add (local.get $k0) (local.get $zf))))))
                        (local.set $cu1 (f32x4.mul (local.get $c1) (v128.load (i32.add (local.get $u) (i32.add (local.get $k1) (local.get $zf))))))
                        (local.set $cu2 (f32x4.mul (local.get $c2) (v128.load (i32.add (local.get $u) (i32.add (local.get $k2) (local.get $zf))))))
                        (local.set $cu3 (f32x4.mul (local.get $c3) (v128.load (i32.add (local.get $u) (i32.add (local.get $k3) (local.get $zf))))))
                        (v128.store (i32.add (local.get $accA) (local.get $zf)) (f32x4.add (f32x4.add (f32x4.add (f32x4.add (v128.load (i32.add (local.get $accA) (local.get $zf))) (f32x4.mul (local.get $cu0) (v128.load (i32.add (local.get $lprev) (i32.add (local.get $k0) (local.get $zf)))))) (f32x4.mul (local.get $cu1) (v128.load (i32.add (local.get $lprev) (i32.add (local.get $k1) (local.get $zf)))))) (f32x4.mul (local.get $cu2) (v128.load (i32.add (local.get $lprev) (i32.add (local.get $k2) (local.get $zf)))))) (f32x4.mul (local.get $cu3) (v128.load (i32.add (local.get $lprev) (i32.add (local.get $k3) (local.get $zf)))))))
                        (v128.store (i32.add (local.get $accB) (local.get $zf)) (f32x4.add (f32x4.add (f32x4.add (f32x4.add (v128.load (i32.add (local.get $accB) (local.get $zf))) (local.get $cu0)) (local.get $cu1)) (local.get $cu2)) (local.get $cu3)))
                        (local.set $zf (i32.add (local.get $zf) (i32.const 16)))
                        (br $zl)))
                    (local.set $g (i32.add (local.get $g) (i32.const 2)))
                    (br $gl)))
                (local.set $e (i32.add (local.get $e) (i32.const 4)))
                (br $ql)))
            (block $od
              (loop $ol
                (br_if $od (i32.ge_u (local.get $e) (local.get $end)))
                (local.set $at (i32.add (local.get $csc) (i32.shl (i32.add (local.get $base) (i32.shl (local.get $e) (i32.const 1))) (i32.const 2))))
                (local.set $c0 (f32x4.splat (f32.convert_i32_u (i32.load offset=4 (local.get $at)))))
                (local.set $k0 (i32.mul (i32.load (local.get $at)) (local.get $row4)))
                (local.set $g (i32.const 0))
                (block $gd
                  (loop $gl
                    (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                    (local.set $zf (i32.shl (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                    (local.set $z1 (i32.shl (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                    (block $zd
                      (loop $zl
                        (br_if $zd (i32.ge_u (local.get $zf) (local.get $z1)))
                        (local.set $cu0 (f32x4.mul (local.get $c0) (v128.load (i32.add (local.get $u) (i32.add (local.get $k0) (local.get $zf))))))
                        (v128.store (i32.add (local.get $accA) (local.get $zf)) (f32x4.add (v128.load (i32.add (local.get $accA) (local.get $zf))) (f32x4.mul (local.get $cu0) (v128.load (i32.add (local.get $lprev) (i32.add (local.get $k0) (local.get $zf)))))))
                        (v128.store (i32.add (local.get $accB) (local.get $zf)) (f32x4.add (v128.load (i32.add (local.get $accB) (local.get $zf))) (local.get $cu0)))
                        (local.set $zf (i32.add (local.get $zf) (i32.const 16)))
                        (br $zl)))
                    (local.set $g (i32.add (local.get $g) (i32.const 2)))
                    (br $gl)))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $ol)))
            ;; q = mask·acc + ridge·p, pq += p_A·q_A + p_B·q_B
            (local.set $k0 (i32.mul (local.get $i) (local.get $row4)))
            (local.set $g (i32.const 0))
            (block $gd
              (loop $gl
                (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
                (local.set $zf (i32.shl (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                (local.set $z1 (i32.shl (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
                (block $zd
                  (loop $zl
                    (br_if $zd (i32.ge_u (local.get $zf) (local.get $z1)))
                    (local.set $rg (v128.load (i32.add (local.get $ridge) (local.get $zf))))
                    (local.set $pa (v128.load (i32.add (local.get $p) (i32.add (local.get $k0) (local.get $zf)))))
                    (local.set $pb (v128.load (i32.add (i32.add (local.get $p) (local.get $bb)) (i32.add (local.get $k0) (local.get $zf)))))
                    (local.set $qa (f32x4.add (f32x4.mul (local.get $mA) (v128.load (i32.add (local.get $accA) (local.get $zf)))) (f32x4.mul (local.get $rg) (local.get $pa))))
                    (local.set $qb (f32x4.add (f32x4.mul (local.get $mB) (v128.load (i32.add (local.get $accB) (local.get $zf)))) (f32x4.mul (local.get $rg) (local.get $pb))))
                    (v128.store (i32.add (local.get $q) (i32.add (local.get $k0) (local.get $zf))) (local.get $qa))
                    (v128.store (i32.add (i32.add (local.get $q) (local.get $bb)) (i32.add (local.get $k0) (local.get $zf))) (local.get $qb))
                    (v128.store (i32.add (local.get $pq) (local.get $zf)) (f32x4.add (v128.load (i32.add (local.get $pq) (local.get $zf))) (f32x4.add (f32x4.mul (local.get $pa) (local.get $qa)) (f32x4.mul (local.get $pb) (local.get $qb)))))
                    (local.set $zf (i32.add (local.get $zf) (i32.const 16)))
                    (br $zl)))
                (local.set $g (i32.add (local.get $g) (i32.const 2)))
                (br $gl)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
        (local.set $k0 (i32.mul (local.get $chunk) (local.get $row4)))
        (local.set $g (i32.const 0))
        (block $gd
          (loop $gl
            (br_if $gd (i32.ge_u (local.get $g) (local.get $nr)))
            (local.set $zf (i32.shl (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
            (local.set $z1 (i32.shl (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2)))
            (block $zd
              (loop $zl
                (br_if $zd (i32.ge_u (local.get $zf) (local.get $z1)))
                (v128.store (i32.add (local.get $partial) (i32.add (local.get $k0) (local.get $zf))) (v128.load (i32.add (local.get $pq) (local.get $zf))))
                (local.set $zf (i32.add (local.get $zf) (i32.const 16)))
                (br $zl)))
            (local.set $g (i32.add (local.get $g) (i32.const 2)))
            (br $gl)))
        (local.set $chunk (i32.add (local.get $chunk) (i32.const 1)))
        (br $cl))))
)
