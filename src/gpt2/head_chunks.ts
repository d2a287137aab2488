// The tied head's vocabulary in column chunks: the logits [N, paddedVocab] of a large vocabulary
// exceed one storage binding, so the head's matmuls and the cross-entropy run chunk by chunk,
// each chunk within one of wte's vocabulary blocks (src/gpt2/layout.ts). Small models have one.
import type { ParamLayout } from "./layout.ts";

/**
 * A range of the tied head's vocabulary: wte rows [colStart, colStart + rows), held in vocabulary
 * block `block` from its row `rowInBlock`; logits column chunk of the same columns.
 */
export interface HeadChunk {
  block: number;
  rowInBlock: number;
  rows: number;
  colStart: number;
}

/** Column chunks of the logits for N rows: each within one vocabulary block and one binding. */
export function headChunks(layout: ParamLayout, N: number, maxElements: number): HeadChunk[] {
  const maxRows = Math.max(4, Math.floor(maxElements / Math.max(N, 1) / 4) * 4);
  const chunks: HeadChunk[] = [];
  layout.vocabBlocks.forEach((b, block) => {
    for (let at = 0; at < b.rows; at += maxRows) {
      chunks.push({
        block,
        rowInBlock: at,
        rows: Math.min(maxRows, b.rows - at),
        colStart: b.start + at,
      });
    }
  });
  return chunks;
}
