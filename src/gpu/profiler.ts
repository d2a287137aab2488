// Per-kernel GPU time. While a DispatchProfiler is attached to the runtime (`rt.profiler`), every
// dispatch is recorded in a compute pass of its own. With the `timestamp-query` feature each
// pass writes begin / end timestamps (GPU time, nanoseconds). Without it ("wall" mode) every
// dispatch is submitted alone and timed by the CPU between consecutive completions: an upper
// bound that includes submit and callback latency, to be labelled as such.
//
// Profiling changes what it measures (one pass and, in wall mode, one submit per dispatch), so
// use it to split a step's time into shares, not to time the step itself.

export type ProfileMode = "timestamp" | "wall";

export interface KernelTime {
  /** Pipeline group, e.g. "matmul_vec4" or "model_attention:backward_key". */
  name: string;
  dispatches: number;
  seconds: number;
  /** Of the profiled dispatches' total time. */
  share: number;
}

export interface KernelProfile {
  mode: ProfileMode;
  /** Sum over every profiled dispatch. */
  seconds: number;
  dispatches: number;
  /** Dispatches past `capacity` that ran untimed. */
  untimed: number;
  /** Largest first. */
  kernels: KernelTime[];
}

const QUERY_RESOLVE = 0x0200; // GPUBufferUsage.QUERY_RESOLVE
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const MAP_READ = 0x0001;
const QUERIES_PER_SET = 4096;
const PAIRS_PER_SET = QUERIES_PER_SET / 2;

/** "shader#entry#defines#overrides" (the PipelineCache label) → "shader" or "shader:entry". */
export function kernelGroup(pipelineLabel: string): string {
  const [shader, entry] = pipelineLabel.split("#");
  return entry && entry !== "main" ? `${shader}:${entry}` : shader;
}

export class DispatchProfiler {
  readonly mode: ProfileMode;
  private readonly querySets: GPUQuerySet[] = [];
  private readonly groups: string[] = [];
  private untimed = 0;
  // Wall mode: submit and completion times (ms) of each dispatch.
  private readonly submitted: number[] = [];
  private readonly done: Promise<number>[] = [];

  /**
   * `capacity`: dispatches timed (later ones run untimed, counted); `group` names a dispatch's
   * kernel from its pipeline label (default kernelGroup).
   */
  constructor(
    private readonly device: GPUDevice,
    readonly capacity = 4096,
    mode?: ProfileMode,
    private readonly group: (pipelineLabel: string) => string = kernelGroup,
  ) {
    this.mode = mode ?? (device.features.has("timestamp-query") ? "timestamp" : "wall");
  }

  /** The query set holding dispatch i's pair (sets are capped at 4096 queries by WebGPU). */
  private querySetFor(i: number): GPUQuerySet {
    const set = Math.floor(i / PAIRS_PER_SET);
    while (this.querySets.length <= set) {
      this.querySets.push(
        this.device.createQuerySet({ type: "timestamp", count: QUERIES_PER_SET }),
      );
    }
    return this.querySets[set];
  }

  /**
   * Called by the runtime for each dispatch: the pass descriptor of its own pass, or null when
   * the dispatch goes untimed.
   */
  passFor(pipelineLabel: string): GPUComputePassDescriptor | null {
    if (this.groups.length >= this.capacity) {
      this.untimed++;
      return null;
    }
    const i = this.groups.length;
    this.groups.push(this.group(pipelineLabel));
    if (this.mode === "wall") return {};
    const slot = i % PAIRS_PER_SET;
    return {
      timestampWrites: {
        querySet: this.querySetFor(i),
        beginningOfPassWriteIndex: 2 * slot,
        endOfPassWriteIndex: 2 * slot + 1,
      },
    };
  }

  /** Wall mode: called right after the runtime submitted the dispatch alone. */
  submittedAlone(queue: GPUQueue): void {
    this.submitted.push(performance.now());
    this.done.push(queue.onSubmittedWorkDone().then(() => performance.now()));
  }

  /** The CPU backend's dispatches run at once: each is timed around its call (wall mode). */
  ranOnHost(started: number, ended: number): void {
    this.submitted.push(started);
    this.done.push(Promise.resolve(ended));
  }

  get timed(): number {
    return this.groups.length;
  }

  /** Waits for the profiled work (flush the runtime first) and aggregates it by kernel group. */
  async collect(): Promise<KernelProfile> {
    const seconds = this.mode === "timestamp" ? await this.gpuSeconds() : await this.wallSeconds();
    const byGroup = new Map<string, { dispatches: number; seconds: number }>();
    this.groups.forEach((group, i) => {
      const entry = byGroup.get(group) ?? { dispatches: 0, seconds: 0 };
      entry.dispatches++;
      entry.seconds += seconds[i];
      byGroup.set(group, entry);
    });
    const total = seconds.reduce((a, b) => a + b, 0);
    const kernels = [...byGroup].map(([name, e]) => ({
      name,
      ...e,
      share: total > 0 ? e.seconds / total : 0,
    })).sort((a, b) => b.seconds - a.seconds);
    return {
      mode: this.mode,
      seconds: total,
      dispatches: this.groups.length,
      untimed: this.untimed,
      kernels,
    };
  }

  private async gpuSeconds(): Promise<number[]> {
    const n = this.groups.length;
    if (n === 0) return [];
    const bytes = 2 * n * 8;
    const resolve = this.device.createBuffer({ size: bytes, usage: QUERY_RESOLVE | COPY_SRC });
    const staging = this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    try {
      const encoder = this.device.createCommandEncoder();
      this.querySets.forEach((set, k) => {
        const count = Math.min(QUERIES_PER_SET, 2 * n - k * QUERIES_PER_SET);
        encoder.resolveQuerySet(set, 0, count, resolve, k * QUERIES_PER_SET * 8);
      });
      encoder.copyBufferToBuffer(resolve, 0, staging, 0, bytes);
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(1 /* GPUMapMode.READ */);
      const stamps = new BigUint64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      // A pass whose end precedes its begin (a reset or wrapped counter) counts as 0.
      return Array.from({ length: n }, (_, i) => {
        const ns = Number(stamps[2 * i + 1] - stamps[2 * i]);
        return ns > 0 ? ns / 1e9 : 0;
      });
    } finally {
      resolve.destroy();
      staging.destroy();
    }
  }

  private async wallSeconds(): Promise<number[]> {
    const done = await Promise.all(this.done);
    // A dispatch runs from its submit or the previous completion, whichever is later.
    return done.map((end, i) => {
      const start = Math.max(this.submitted[i], i > 0 ? done[i - 1] : -Infinity);
      return Math.max(0, end - start) / 1000;
    });
  }

  dispose(): void {
    for (const set of this.querySets) set.destroy();
  }
}
