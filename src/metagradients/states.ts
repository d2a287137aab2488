// Saved training states (θ_t, m_t, v_t) on the GPU, and which of them REPLAY keeps (MATH.md §7
// "Rematerialisation"). The reverse pass needs every state in reverse order; keeping all T costs
// T model states, so a policy keeps a few and the rest are recomputed from the nearest kept one:
//   - "all":  every state of the first forward pass (T + 1 states, no recomputation);
//   - "sqrt": every k-th state (k = ⌈√T⌉) from the forward pass, plus the states of the one
//             segment being reversed: O(√T) states, each step recomputed about once more;
//   - "log":  only the first and last; each replay keeps the midpoint of what it spans
//             (recursive halving): O(log T) states, O(T log T) recomputation.
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";

export type Checkpointing = "sqrt" | "log" | "all";

/** One saved state: parameters and AdamW's two moments, each a copy of one flat buffer. */
export interface SavedState {
  params: Tensor;
  m: Tensor;
  v: Tensor;
}

/** The saved states by step, with a pool of released buffers and the peak count held. */
export class StateCache {
  private readonly states = new Map<number, SavedState>();
  private readonly pool: SavedState[] = [];
  private readonly persistent = new Set<number>();
  peak = 0;

  constructor(
    private readonly rt: GpuRuntime,
    private readonly size: number,
    readonly policy: Checkpointing,
    readonly steps: number,
  ) {}

  /** The stride of "sqrt"'s kept states. */
  get stride(): number {
    return Math.max(1, Math.ceil(Math.sqrt(this.steps)));
  }

  /** Whether the first forward pass keeps state t (kept for every query: persistent). */
  keptByForward(t: number): boolean {
    if (t === 0 || t === this.steps || this.policy === "all") return true;
    return this.policy === "sqrt" && t % this.stride === 0;
  }

  /** Whether a replay from state `from` towards state `to` keeps the state it reaches at t. */
  keptByReplay(t: number, from: number, to: number): boolean {
    if (t === to || this.policy !== "log") return true;
    return t === from + Math.ceil((to - from) / 2);
  }

  has(t: number): boolean {
    return this.states.has(t);
  }

  get(t: number): SavedState {
    const state = this.states.get(t);
    if (!state) throw new Error(`state ${t} is not saved`);
    return state;
  }

  /** The latest saved step at or before t. */
  nearestAtOrBefore(t: number): number {
    let best = -1;
    for (const step of this.states.keys()) if (step <= t && step > best) best = step;
    if (best < 0) throw new Error(`no saved state at or before ${t}`);
    return best;
  }

  /** Saves copies of the given buffers as state t. */
  save(t: number, params: Tensor, m: Tensor, v: Tensor, persistent: boolean): void {
    const state = this.states.get(t) ?? this.pool.pop() ?? {
      params: this.rt.zeros([this.size]),
      m: this.rt.zeros([this.size]),
      v: this.rt.zeros([this.size]),
    };
    this.rt.copy(params, state.params);
    this.rt.copy(m, state.m);
    this.rt.copy(v, state.v);
    this.states.set(t, state);
    if (persistent) this.persistent.add(t);
    this.peak = Math.max(this.peak, this.states.size);
  }

  /** Releases the non-persistent states at or after step t (the reverse pass is past them). */
  releaseFrom(t: number): void {
    for (const [step, state] of this.states) {
      if (step >= t && !this.persistent.has(step)) {
        this.states.delete(step);
        this.pool.push(state);
      }
    }
  }

  dispose(): void {
    for (const state of [...this.states.values(), ...this.pool]) {
      state.params.dispose();
      state.m.dispose();
      state.v.dispose();
    }
    this.states.clear();
    this.pool.length = 0;
  }
}
