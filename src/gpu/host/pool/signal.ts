// One worker's signal: a SharedArrayBuffer with its state (int32 0) and, after a failure, the
// error's length (int32 1) and UTF-8 text (from byte 8), since the blocked dispatching thread
// cannot receive a message.
export const SIGNAL_PENDING = 0;
export const SIGNAL_DONE = 1;
export const SIGNAL_FAILED = 2;

const TEXT_AT = 8;
const SIGNAL_BYTES = 8192;

export function createSignal(): SharedArrayBuffer {
  return new SharedArrayBuffer(SIGNAL_BYTES);
}

export function writeSignalError(signal: SharedArrayBuffer, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, SIGNAL_BYTES - TEXT_AT);
  new Uint8Array(signal, TEXT_AT).set(bytes);
  new Int32Array(signal)[1] = bytes.length;
}

export function readSignalError(signal: SharedArrayBuffer): string {
  const length = new Int32Array(signal)[1];
  return new TextDecoder().decode(new Uint8Array(signal, TEXT_AT, length).slice());
}
