// The CPU backend's threads: WebGPU runs a dispatch over all of a GPU's cores, and the CPU
// backend runs a split kernel (split.ts) over all of the CPU's, the dispatching thread taking
// part 0 and each ready worker one more. The tensors' memory is shared (HostBuffer `shared`),
// so a part reads and writes the same buffers; the dispatching thread blocks in Atomics.wait
// until every part is done, because a dispatch on this backend has finished when it returns.
// Workers start in the background (node:worker_threads, unref'd so that they never keep a
// process alive); until one is ready its parts run on the dispatching thread. BLAS runs on one
// thread while parts run, since every core already has a part.
import { Worker } from "node:worker_threads";
import { withOneBlasThread } from "../../../linalg/blas_threads.ts";
import type { HostCall } from "../host_kernel.ts";
import { type HostPart, type HostSplitKernel, WHOLE } from "./split.ts";
import { createSignal, readSignalError, SIGNAL_FAILED, SIGNAL_PENDING } from "./signal.ts";

/** What a worker is sent for one part. */
export interface PartMessage {
  name: string;
  call: Omit<HostCall, "buffers">;
  buffers: SharedArrayBuffer[];
  part: HostPart;
  signal: SharedArrayBuffer;
}

/** A part that has not answered in this long means a dead worker: fail rather than hang. */
const PART_TIMEOUT_MS = 10 * 60_000;

interface PoolWorker {
  worker: Worker;
  signal: SharedArrayBuffer;
  ready: boolean;
}

export class HostPool {
  private workers: PoolWorker[] = [];
  /** Dispatches that ran in parts on more than one thread (for tests and profiles). */
  splitDispatches = 0;

  /** `threads` in all, the dispatching one included (1: no workers). */
  constructor(readonly threads: number) {
    for (let i = 1; i < threads; i++) {
      const worker = new Worker(new URL("./worker.ts", import.meta.url));
      const entry: PoolWorker = { worker, signal: createSignal(), ready: false };
      worker.once("message", () => {
        entry.ready = true;
        worker.unref();
      });
      // A worker that failed or ended takes no more parts; its dispatching thread runs them.
      worker.on("error", () => {
        entry.ready = false;
      });
      worker.on("exit", () => {
        entry.ready = false;
      });
      this.workers.push(entry);
    }
  }

  /** Workers that take parts now. */
  get readyWorkers(): number {
    return this.workers.filter((w) => w.ready).length;
  }

  /**
   * Runs `kernel` over `call` in parts: part 0 here, one per ready worker. Whole, here, when no
   * worker is ready or a buffer is not shared.
   */
  run(name: string, call: HostCall, kernel: HostSplitKernel): void {
    const ready = this.workers.filter((w) => w.ready);
    if (ready.length === 0 || !call.buffers.every((b) => b.shared)) {
      withOneBlasThread(() => kernel(call, WHOLE));
      return;
    }
    const count = ready.length + 1;
    this.splitDispatches++;
    const { buffers, ...rest } = call;
    const shared = buffers.map((b) => b.storage as SharedArrayBuffer);
    withOneBlasThread(() => {
      ready.forEach((w, i) => {
        const state = new Int32Array(w.signal);
        Atomics.store(state, 0, SIGNAL_PENDING);
        const message: PartMessage = {
          name,
          call: rest,
          buffers: shared,
          part: { index: i + 1, count },
          signal: w.signal,
        };
        w.worker.postMessage(message);
      });
      let failure: unknown = null;
      try {
        kernel(call, { index: 0, count });
      } catch (e) {
        failure = e;
      }
      // Every part must have finished before this dispatch returns, failed or not.
      for (const w of ready) {
        const state = new Int32Array(w.signal);
        const started = performance.now();
        while (Atomics.load(state, 0) === SIGNAL_PENDING) {
          if (performance.now() - started > PART_TIMEOUT_MS) {
            w.ready = false;
            failure ??= new Error(`a CPU worker did not finish its part of ${name}`);
            break;
          }
          Atomics.wait(state, 0, SIGNAL_PENDING, 1000);
        }
        if (Atomics.load(state, 0) === SIGNAL_FAILED) {
          failure ??= new Error(`a CPU worker failed in ${name}: ${readSignalError(w.signal)}`);
        }
      }
      if (failure) throw failure;
    });
  }

  close(): void {
    for (const w of this.workers) void w.worker.terminate();
    this.workers = [];
  }
}
