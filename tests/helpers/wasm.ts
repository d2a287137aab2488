// The check every committed WebAssembly module gets: its generated TypeScript file is exactly what
// src/gpu/host/wasm/build.ts writes from its .wat now (else: run `deno task gen:wasm`).
import assert from "node:assert/strict";
import {
  buildWasm,
  generatedWasmUrl,
  renderWasmTs,
  type WasmModuleName,
} from "../../src/gpu/host/wasm/build.ts";

export async function assertGeneratedWasmCurrent(
  name: WasmModuleName,
  committedBase64: string,
): Promise<void> {
  const bytes = await buildWasm(name);
  const committed = Uint8Array.from(atob(committedBase64), (c) => c.charCodeAt(0));
  assert.deepEqual(committed, bytes, "run `deno task gen:wasm`");
  const text = await Deno.readTextFile(generatedWasmUrl(name));
  assert.equal(text, renderWasmTs(name, bytes), "run `deno task gen:wasm`");
}
