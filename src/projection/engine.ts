// Projected per-example gradients on the GPU: for each sequence, the gradient of its summed loss
// over its labelled tokens (summedLoss), projected (math.ts says how).
//   dense:     one backward per sequence with parameter gradients; the selected parameters'
//              gradients are gathered into a row of a staging buffer and a group of rows is
//              projected at once (hashProject), or, when g exceeds a binding, each parameter's
//              buffer is projected in place (base = its offset in g) into the sequence's row.
//   kronecker: sequences stream through in batches; the backward's visitor projects each tracked
//              layer's masked taps, s·P_out and [a, 1]·P_in (hashProject), and sums their outer
//              products over tokens into the layer's block (kroneckerOuterSum). DW is never formed
//              and no parameter gradient is computed.
import { copy } from "../gpu/kernels/copy.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { Gpt2Model } from "../gpt2/model.ts";
import type { ParamSet } from "../gpt2/params.ts";
import { summedLoss } from "../gpt2/taps.ts";
import { longest, type Sequence, sequenceBatches } from "../influence/sequences.ts";
import { TapScratch } from "../influence/tap_rows.ts";
import { moduleSeed } from "./hash.ts";
import { hashProject } from "./kernels/dense.ts";
import { kroneckerOuterSum } from "./kernels/kronecker.ts";
import {
  denseParameters,
  kroneckerLayers,
  type ParameterSelection,
  type ProjectionSpec,
} from "./math.ts";

export interface ProjectGradientsOptions {
  runtime: GpuRuntime;
  params: ParamSet;
  sequences: readonly Sequence[];
  projection: ProjectionSpec;
  parameters: ParameterSelection;
  /** Sequences per backward (Kronecker) or per readback (dense). Default 8. */
  batchSize?: number;
  /** The staging buffer's limit in elements (default the binding limit; tests lower it). */
  maxStagingElements?: number;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number; tokens: number }) => void;
}

/** [n, dim] row-major: row i is sequence i's projected gradient. */
export async function projectGradients(o: ProjectGradientsOptions): Promise<Float32Array> {
  if (o.sequences.length === 0) throw new RangeError("no sequences to project");
  return o.projection.kind === "dense" ? await dense(o) : await kronecker(o);
}

interface Piece {
  grad: Tensor;
  base: number;
}

/** The selected parameters' gradient buffers as flat views, with their offsets in g. */
function densePieces(model: Gpt2Model, selection: ParameterSelection): Piece[] {
  const { layout } = model;
  const pieces: Piece[] = [];
  let base = 0;
  const V = model.config.vocab_size, d = model.dims.d;
  for (const { name, size } of denseParameters(model.config, selection)) {
    if (name === "wte.weight") {
      for (const block of layout.vocabBlocks) {
        const rows = Math.max(0, Math.min(block.rows, V - block.start));
        if (rows === 0) continue;
        pieces.push({
          grad: model.gradSegments[block.segment].view([1, rows * d], undefined, block.offset),
          base: base + block.start * d,
        });
      }
    } else {
      const slot = layout.byName.get(name)!;
      pieces.push({
        grad: model.gradSegments[slot.segment].view([1, size], undefined, slot.offset),
        base,
      });
    }
    base += size;
  }
  return pieces;
}

/**
 * Dense projection. Up to `group` examples' gradients are gathered into one [group, p] staging
 * buffer (one backward each) and projected together, so that each hashed sign serves every row;
 * when one gradient exceeds a binding (GPT-2-124M's "all"), each parameter's gradient buffer is
 * projected in place, one example at a time.
 */
async function dense(o: ProjectGradientsOptions): Promise<Float32Array> {
  const rt = o.runtime;
  const { dim, seed } = o.projection;
  const n = o.sequences.length;
  const binding = Math.min(
    o.maxStagingElements ?? Infinity,
    Math.floor(
      Math.min(rt.device.limits.maxStorageBufferBindingSize, rt.device.limits.maxBufferSize) / 4,
    ),
  );
  const model = Gpt2Model.create(rt, o.params);
  const pieces = densePieces(model, o.parameters);
  const p = denseParameters(o.params.config, o.parameters).reduce((sum, x) => sum + x.size, 0);
  const group = Math.max(
    1,
    Math.min(o.batchSize ?? 8, n, Math.floor(binding / p), Math.floor(binding / dim)),
  );
  const staged = p <= binding;
  const result = new Float32Array(n * dim);
  const out = rt.zeros([group, dim]);
  const scratch = rt.zeros([
    group * dim * Math.max(1, Math.min(16, Math.floor(2 ** 22 / (group * dim)))),
  ]);
  const staging = staged ? rt.zeros([group * p]) : null;
  const options = { seed, scale: 1 / Math.sqrt(dim) };
  let tokens = 0;
  try {
    let pending = 0;
    const flush = async (upTo: number) => {
      if (staging) {
        await hashProject(
          rt,
          staging.view([pending, p]),
          out.view([pending, dim]),
          scratch,
          options,
        );
      }
      const rows = await rt.readOne(out);
      result.set(rows.subarray(0, pending * dim), (upTo - pending) * dim);
      pending = 0;
    };
    for (const sb of sequenceBatches(o.sequences, 1)) {
      o.signal?.throwIfAborted();
      await model.backward(sb.batch, summedLoss(), {}, { parameterGradients: true });
      for (const [i, piece] of pieces.entries()) {
        if (staging) {
          const size = piece.grad.size;
          await copy(
            rt,
            piece.grad.reshape([size]),
            staging.view([size], [1], pending * p + piece.base),
          );
        } else {
          const row = out.view([1, dim], [dim, 1], pending * dim);
          await hashProject(rt, piece.grad, row, scratch, {
            ...options,
            base: piece.base,
            accumulate: i > 0,
          });
        }
      }
      pending++;
      tokens += sb.positions;
      if (pending === group || sb.start + 1 === n) await flush(sb.start + 1);
      o.onProgress?.({ done: sb.start + 1, total: n, tokens });
    }
    return result;
  } finally {
    for (const t of [out, scratch, staging]) t?.dispose();
    model.dispose();
  }
}

async function kronecker(o: ProjectGradientsOptions): Promise<Float32Array> {
  const rt = o.runtime;
  const { dim, seed } = o.projection;
  const n = o.sequences.length;
  const batchSize = Math.max(1, Math.min(o.batchSize ?? 8, n));
  const layers = kroneckerLayers(o.params.config, o.parameters, dim);
  const byName = new Map(layers.map((l) => [l.module.name, l]));
  const maxRows = batchSize * longest(o.sequences);
  const widest = Math.max(...layers.map((l) => Math.max(l.ko, l.ki)));
  const result = new Float32Array(n * dim);
  const model = Gpt2Model.create(rt, o.params);
  const taps = new TapScratch(rt, layers.map((l) => l.module), maxRows, batchSize);
  const sp = rt.zeros([maxRows * Math.max(...layers.map((l) => l.ko))]);
  const ap = rt.zeros([maxRows * Math.max(...layers.map((l) => l.ki))]);
  const scratch = rt.zeros([maxRows * widest * 4]);
  const out = rt.zeros([batchSize, dim]);
  let tokens = 0;
  try {
    for (const sb of sequenceBatches(o.sequences, batchSize)) {
      o.signal?.throwIfAborted();
      const { B, T } = sb.batch;
      const mask = rt.tensor(sb.tokenMask);
      try {
        await model.backward(sb.batch, summedLoss(), {
          linear: async (tap) => {
            const layer = byName.get(tap.name);
            if (!layer) return;
            const { ko, ki, module } = layer;
            const rows = await taps.rows(tap, module, mask);
            const spRows = sp.view([rows.N, ko]);
            const apRows = ap.view([rows.N, ki]);
            await hashProject(rt, rows.s, spRows, scratch, {
              seed: moduleSeed(seed, layer.linearIndex, 1),
              scale: 1 / Math.sqrt(ko),
            });
            await hashProject(rt, rows.a, apRows, scratch, {
              seed: moduleSeed(seed, layer.linearIndex, 0),
              scale: 1 / Math.sqrt(ki),
            });
            await kroneckerOuterSum(
              rt,
              spRows.reshape([B, T, ko]),
              apRows.reshape([B, T, ki]),
              out.view([B, ko * ki], [dim, 1], layer.offset),
            );
          },
        }, { parameterGradients: false });
        const rows = await rt.readOne(out);
        result.set(rows.subarray(0, B * dim), sb.start * dim);
      } finally {
        mask.dispose();
      }
      tokens += sb.positions;
      o.onProgress?.({ done: sb.start + B, total: n, tokens });
    }
    return result;
  } finally {
    for (const t of [sp, ap, scratch, out]) t.dispose();
    taps.dispose();
    model.dispose();
  }
}
