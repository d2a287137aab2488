// A CPU worker thread of the host pool (host_pool.ts): it runs one part of a split kernel over
// the shared buffers it is handed, then raises its signal (state 1 done, 2 failed, with the error
// written after it) so that the dispatching thread, blocked in Atomics.wait, goes on.
import { parentPort } from "node:worker_threads";
import { HostBuffer } from "../host_buffer.ts";
import { hostSplitKernel } from "./split_table.ts";
import type { PartMessage } from "./host_pool.ts";
import { SIGNAL_DONE, SIGNAL_FAILED, writeSignalError } from "./signal.ts";

const port = parentPort!;

port.on("message", (message: PartMessage) => {
  const state = new Int32Array(message.signal);
  try {
    const kernel = hostSplitKernel(message.name);
    if (!kernel) throw new Error(`no split CPU port named ${message.name}`);
    kernel(
      { ...message.call, buffers: message.buffers.map((b) => new HostBuffer(b)) },
      message.part,
    );
    Atomics.store(state, 0, SIGNAL_DONE);
  } catch (e) {
    writeSignalError(message.signal, e instanceof Error ? e.stack ?? e.message : String(e));
    Atomics.store(state, 0, SIGNAL_FAILED);
  }
  Atomics.notify(state, 0);
});

port.postMessage("ready");
