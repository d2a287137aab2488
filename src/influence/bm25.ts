// BM25 on token ids, the variant of "Studying Large Language Model Generalization with Influence
// Functions" used to pick candidate training sequences before any gradient is computed
// (production code, CPU). Term frequency is binary:
//
//   score(q, d) = Σ_{w ∈ distinct tokens of q} IDF(w) · f·(k1 + 1) / (f + k1·(1 − b + b·|d|/avgdl))
//   f = 1 if w occurs in d else 0,   IDF(w) = ln((C − n_w + 0.5)/(n_w + 0.5) + 1)
//
// C = number of documents, n_w = documents containing w, |d| = d's token count (with repeats),
// avgdl = mean |d| over the indexed documents. Defaults k1 = 1.5, b = 0.75.
//
// Since f is 0 or 1, score(q, d) = norm(d) · Σ_{w ∈ q ∩ d} IDF(w) with
// norm(d) = (k1 + 1)/(1 + k1·(1 − b + b·|d|/avgdl)); the index keeps, per token, the documents
// that contain it (ascending), so a query costs the sum of its distinct tokens' posting lengths.

export interface Bm25Options {
  /** Saturation parameter; default 1.5. */
  k1?: number;
  /** Length normalisation; default 0.75. */
  b?: number;
}

export interface Bm25Hit {
  /** Document index in the order the documents were indexed. */
  index: number;
  score: number;
}

export class Bm25Index {
  readonly k1: number;
  readonly b: number;
  /** Number of documents C. */
  readonly size: number;
  /** Mean document length (0 for an empty index or only empty documents). */
  readonly avgdl: number;
  /** Per document: (k1 + 1)/(1 + k1·(1 − b + b·|d|/avgdl)). */
  readonly #norm: Float64Array;
  /** Token id → ascending indices of the documents that contain it. */
  readonly #postings: Map<number, Int32Array>;

  private constructor(
    k1: number,
    b: number,
    size: number,
    avgdl: number,
    norm: Float64Array,
    postings: Map<number, Int32Array>,
  ) {
    this.k1 = k1;
    this.b = b;
    this.size = size;
    this.avgdl = avgdl;
    this.#norm = norm;
    this.#postings = postings;
  }

  /** Indexes `documents` (token id sequences) once. */
  static build(documents: readonly ArrayLike<number>[], options: Bm25Options = {}): Bm25Index {
    const k1 = options.k1 ?? 1.5;
    const b = options.b ?? 0.75;
    if (!(k1 >= 0) || !Number.isFinite(k1)) throw new RangeError(`k1 = ${k1} must be ≥ 0`);
    if (!(b >= 0 && b <= 1)) throw new RangeError(`b = ${b} must lie in [0, 1]`);
    const size = documents.length;
    let total = 0;
    const lists = new Map<number, number[]>();
    for (let d = 0; d < size; d++) {
      const doc = documents[d];
      total += doc.length;
      for (let i = 0; i < doc.length; i++) {
        const w = doc[i];
        if (!Number.isInteger(w)) throw new RangeError(`document ${d}: token ${w} is not an id`);
        let list = lists.get(w);
        if (!list) lists.set(w, list = []);
        // Documents are visited in order, so a repeat within d is always the list's last entry.
        if (list[list.length - 1] !== d) list.push(d);
      }
    }
    const avgdl = size > 0 ? total / size : 0;
    const norm = new Float64Array(size);
    for (let d = 0; d < size; d++) {
      const ratio = avgdl > 0 ? documents[d].length / avgdl : 0;
      norm[d] = (k1 + 1) / (1 + k1 * (1 - b + b * ratio));
    }
    const postings = new Map<number, Int32Array>();
    for (const [w, list] of lists) postings.set(w, Int32Array.from(list));
    return new Bm25Index(k1, b, size, avgdl, norm, postings);
  }

  /** Documents containing token w (n_w). */
  documentFrequency(w: number): number {
    return this.#postings.get(w)?.length ?? 0;
  }

  /** IDF(w) = ln((C − n_w + 0.5)/(n_w + 0.5) + 1). */
  idf(w: number): number {
    const nw = this.documentFrequency(w);
    return Math.log((this.size - nw + 0.5) / (nw + 0.5) + 1);
  }

  /** score(query, d) for every document d, [C]. */
  scores(query: ArrayLike<number>): Float64Array {
    const sums = new Float64Array(this.size);
    for (const w of new Set(Array.from(query))) {
      const list = this.#postings.get(w);
      if (!list) continue;
      const idf = this.idf(w);
      for (let i = 0; i < list.length; i++) sums[list[i]] += idf;
    }
    for (let d = 0; d < this.size; d++) sums[d] *= this.#norm[d];
    return sums;
  }

  /**
   * The k best documents for `query`, best first (ties: lower index first). Documents sharing no
   * token with the query score 0 and are included only when fewer than k others score above 0.
   */
  topK(query: ArrayLike<number>, k: number): Bm25Hit[] {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`k = ${k} must be an integer ≥ 0`);
    return topKOf(this.scores(query), k);
  }
}

/** Indices of the k largest values, best first, ties broken by lower index (a size-k heap). */
export function topKOf(values: ArrayLike<number>, k: number): Bm25Hit[] {
  const n = values.length;
  const m = Math.min(k, n);
  if (m === 0) return [];
  // Min-heap (by "worse first": lower score, then higher index) of the best m seen so far.
  const heap = new Int32Array(m);
  let size = 0;
  const worse = (a: number, b: number) =>
    values[a] < values[b] || (values[a] === values[b] && a > b);
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let w = i;
      if (l < size && worse(heap[l], heap[w])) w = l;
      if (r < size && worse(heap[r], heap[w])) w = r;
      if (w === i) return;
      [heap[i], heap[w]] = [heap[w], heap[i]];
      i = w;
    }
  };
  for (let d = 0; d < n; d++) {
    if (size < m) {
      let i = size++;
      heap[i] = d;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!worse(heap[i], heap[parent])) break;
        [heap[i], heap[parent]] = [heap[parent], heap[i]];
        i = parent;
      }
    } else if (worse(heap[0], d)) {
      heap[0] = d;
      siftDown(0);
    }
  }
  const out = Array.from(heap.subarray(0, size), (index) => ({ index, score: values[index] }));
  out.sort((a, b) => b.score - a.score || a.index - b.index);
  return out;
}
