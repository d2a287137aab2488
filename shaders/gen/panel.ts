// Generates shaders/matmul_panel.wgsl: the broadcast-panel kernel with its accumulator grid
// spelled out (NIR does not unroll loops over large private arrays; blocks beyond R / RN are dead
// code).
import {
  allOf,
  generatedHeader,
  type GeneratedShader,
  guarded,
  range,
  VEC4_MATMUL_BINDINGS,
} from "./common.ts";

/** The largest R (rows per panel) and RN (4-column blocks per invocation) the kernel supports. */
const RMAX = 32;
const RNMAX = 8;

/** Everything before the accumulators: the layout documentation, bindings and helpers. */
const PROLOGUE =
  `// matmul_panel: out = alpha · a·b (+ bias) (+ out) for CPU adapters (llvmpipe). A workgroup of W
// invocations owns an R-row panel of out; invocation i owns the 4-column blocks i, i + W, ... (RN
// of them) across all R rows. Per step of 4 k, the workgroup stages a's R × 4 tile in workgroup
// memory (R vec4 loads shared by all W invocations) and each invocation reads it back at
// compile-time-constant offsets while streaming its own columns of b. On llvmpipe every buffer
// load is a per-lane loop, so cost follows loads per FMA: here R + 4·RN vec4 loads (R of them
// from workgroup memory, which skips the bounds check) feed 4·R·RN vec4 FMAs, against
// 4·(RM + RN) storage loads for 16·RM·RN in matmul_vec4 (16 vs 10.7 FMAs per load at the tuned
// sizes); one barrier pair per 4 k.
//
// Layouts (element units; z = batch index; offsets and non-unit strides are multiples of 4):
//   a [Z, M, K]: A_T false → a[z,m,k] = a_buf[a_off + z·a_sb + m·a_sm + k]   (vec4 along k)
//                A_T true  → a[z,m,k] = a_buf[a_off + z·a_sb + k·a_sk + m]   (vec4 along m, M % 4 == 0)
//   b [Z, K, N]: B_T false → b[z,k,n] = b_buf[b_off + z·b_sb + k·b_sk + n]   (vec4 along n)
//                B_T true  → b[z,k,n] = b_buf[b_off + z·b_sb + n·b_sn + k]   (vec4 along k)
//   out [Z, M, N] contiguous from out_off + z·out_sb (out_off % 4 == 0); bias [N] from bias_off.
//   Requires K % 4 == 0 and N % 4 == 0. flags: bit 0 adds bias, bit 1 accumulates into out.
// Edge rows / columns are clamped on load and masked on store.
// Defines: R (4..32, multiple of 4), RN (1..8), W (R % W == 0 or W % R == 0), A_T, B_T.
// Grid: x over column panels of 4·RN·W, y over row panels of R, z over the batch.
// The accumulator grid is spelled out by a generator script (shaders/gen/panel.ts; edit every
// block alike) because NIR does not unroll loops over large private arrays.

${VEC4_MATMUL_BINDINGS}

// A_T false: a_tile[r] = a[row0 + r, k .. k + 3];
// A_T true: a_tile[kk·R/4 + q] = a[row0 + 4q .. + 3, k + kk].
var<workgroup> a_tile: array<vec4f, 32>; // R used (sized for the largest R)

const STAGE: u32 = (R + W - 1u) / W; // a-tile vec4s staged per invocation

// Bᵀ block for k .. k + 3 and columns c .. c + 3 (result rows are k offsets); b_base in vec4s.
fn load_b(b_base: u32, c: u32, k: u32) -> mat4x4f {
  let p = params;
  if (B_T) {
    let last = p.N - 1u;
    let s = p.b_sn / 4u;
    let kk = b_base + k / 4u;
    return transpose(mat4x4f(
      b_buf[kk + min(c, last) * s],
      b_buf[kk + min(c + 1u, last) * s],
      b_buf[kk + min(c + 2u, last) * s],
      b_buf[kk + min(c + 3u, last) * s],
    ));
  }
  let base = b_base + min(c / 4u, p.N / 4u - 1u);
  let s = p.b_sk / 4u;
  return mat4x4f(
    b_buf[base + k * s],
    b_buf[base + (k + 1u) * s],
    b_buf[base + (k + 2u) * s],
    b_buf[base + (k + 3u) * s],
  );
}

// bias[c .. c + 3] when flags ask for it (c clamped so that masked columns stay in bounds).
fn bias_at(c: u32) -> vec4f {
  let p = params;
  if ((p.flags & 1u) == 0u) {
    return vec4f(0.0);
  }
  let o = p.bias_off + min(c, p.N - 4u);
  return vec4f(bias[o], bias[o + 1u], bias[o + 2u], bias[o + 3u]);
}

// Writes rows row .. row + 3 (\`v\` holds them as columns) of the block at columns c .. c + 3 as
// alpha · v + add (+ out when accumulating).
fn store(v: mat4x4f, row: u32, c: u32, z: u32, add: vec4f) {
  let p = params;
  if (c >= p.N) {
    return;
  }
  let base = (p.out_off + z * p.out_sb) / 4u + c / 4u;
  let n4 = p.N / 4u;
  for (var r = 0u; r < 4u; r++) {
    if (row + r < p.M) {
      let o = base + (row + r) * n4;
      var x = p.alpha * v[r] + add;
      if ((p.flags & 2u) != 0u) {
        x += out[o];
      }
      out[o] = x;
    }
  }
}

@compute @workgroup_size(W)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let p = params;
  let z = wid.z;
  let row0 = wid.y * R;
  // This invocation's blocks start at columns col0 + 4·W·j.
  let col0 = 4u * (wid.x * (W * RN) + li);
  let a_base = (p.a_off + z * p.a_sb) / 4u;
  let b_base = (p.b_off + z * p.b_sb) / 4u;
  // This invocation's share of the a tile: vec4s li, li + W, ... below R.
  var a_src: array<u32, STAGE>; // vec4 index of each staged element at k = 0
  var a_step = 1u; // their advance per step of 4 k
  for (var s = 0u; s < STAGE; s++) {
    let e = min(li + s * W, R - 1u);
    if (A_T) {
      a_src[s] = a_base + (e / (R / 4u)) * (p.a_sk / 4u) + min(row0 / 4u + e % (R / 4u), p.M / 4u - 1u);
      a_step = p.a_sk;
    } else {
      a_src[s] = a_base + min(row0 + e, p.M - 1u) * (p.a_sm / 4u);
    }
  }`;

/** The first part of a step of 4 k: stage this invocation's share of the a tile. */
const STAGE_A_TILE = `  for (var k = 0u; k < p.K; k += 4u) {
    workgroupBarrier(); // the previous step's reads are done
    for (var s = 0u; s < STAGE; s++) {
      if (li + s * W < R) {
        a_tile[li + s * W] = a_buf[a_src[s]];
      }
      a_src[s] += a_step;
    }
    workgroupBarrier();`;

/** Row r's accumulator updates for one step of 4 k; aOf(kk) is the scalar a[row0 + r, k + kk]. */
function fmas(r: number, aOf: (kk: number) => string): string[] {
  return range(RNMAX).map((j) => {
    let e = `c${r}_${j}`;
    for (const kk of range(4)) e = `fma(vec4f(${aOf(kk)}), b${j}[${kk}], ${e})`;
    return guarded(allOf(r ? `R > ${r}u` : "", j ? `RN > ${j}u` : ""), `c${r}_${j} = ${e};`);
  });
}

function generate(): string {
  const lines = [generatedHeader("panel"), PROLOGUE];
  const w = (line: string) => lines.push(line);
  /** A block of statements, guarded by `cond` unless it is empty (always live). */
  const block = (cond: string, body: string[]) => {
    w(cond ? `      if (${cond}) {` : "      {");
    for (const s of body) w(`        ${s}`);
    w("      }");
  };
  for (const r of range(RMAX)) {
    for (const j of range(RNMAX)) w(`  var c${r}_${j} = vec4f();`);
  }
  w(STAGE_A_TILE);
  for (const j of range(RNMAX)) {
    if (j === 0) {
      w("    let b0 = load_b(b_base, col0, k);");
    } else {
      w(`    var b${j} = mat4x4f();`);
      w(`    if (RN > ${j}u) { b${j} = load_b(b_base, col0 + ${4 * j}u * W, k); }`);
    }
  }
  w("    if (A_T) {");
  for (const q of range(RMAX / 4)) {
    const body = range(4).map((kk) => `let t${kk} = a_tile[${kk}u * (R / 4u) + ${q}u];`);
    for (const rr of range(4)) body.push(...fmas(4 * q + rr, (kk) => `t${kk}[${rr}]`));
    block(q ? `R > ${4 * q}u` : "", body);
  }
  w("    } else {");
  for (const r of range(RMAX)) {
    block(r ? `R > ${r}u` : "", [`let t = a_tile[${r}u];`, ...fmas(r, (kk) => `t[${kk}]`)]);
  }
  w("    }");
  w("  }");
  // The epilogue is one loop over row groups (a switch picks the accumulators): spelling out every
  // store made llvmpipe's compile ~6x slower.
  for (const j of range(RNMAX)) w(`  let add${j} = bias_at(col0 + ${4 * j}u * W);`);
  w("  for (var q = 0u; q < R / 4u; q++) {");
  for (const j of range(RNMAX)) w(`    var m${j}: mat4x4f;`);
  w("    switch q {");
  for (const q of range(RMAX / 4)) {
    w(`      case ${q}u: {`);
    for (const j of range(RNMAX)) {
      const columns = range(4).map((rr) => `c${4 * q + rr}_${j}`).join(", ");
      w(`        m${j} = mat4x4f(${columns});`);
    }
    w("      }");
  }
  w("      default: {}");
  w("    }");
  for (const j of range(RNMAX)) {
    const stmt = `store(m${j}, row0 + 4u * q, col0 + ${4 * j}u * W, z, add${j});`;
    w(`    ${guarded(j ? `RN > ${j}u` : "", stmt)}`);
  }
  w("  }");
  w("}");
  return lines.join("\n") + "\n";
}

export const panel: GeneratedShader = { generator: "panel", shader: "matmul_panel", generate };
