// Generator of src/gpt2/host/wasm/softmax_wasm.ts: compiles softmax.wat (WebAssembly text, SIMD)
// with the npm package wabt and writes the module's bytes as a base64 string constant, so the
// service never needs wabt at run time, as src/gpu/host/wasm/build.ts does for the GELU module.
// Run with `deno run --allow-read --allow-write src/gpt2/host/wasm/build.ts`;
// tests/gpt2/host_softmax_wasm.test.ts checks that the committed file is what this writes.
import wabtInit from "wabt";

const here = new URL(".", import.meta.url);
export const SOFTMAX_WAT_URL = new URL("softmax.wat", here);
export const SOFTMAX_WASM_TS_URL = new URL("softmax_wasm.ts", here);

/** The module's bytes, compiled from softmax.wat. */
export async function buildSoftmaxWasm(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const text = await Deno.readTextFile(SOFTMAX_WAT_URL);
  const module = wabt.parseWat("softmax.wat", text, { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer.slice();
  } finally {
    module.destroy();
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The text of softmax_wasm.ts for these bytes. */
export function renderSoftmaxWasmTs(bytes: Uint8Array): string {
  const base64 = toBase64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 96) lines.push(`  "${base64.slice(i, i + 96)}",`);
  return [
    "// GENERATED FILE, do not edit: the WebAssembly module compiled from",
    "// src/gpt2/host/wasm/softmax.wat by src/gpt2/host/wasm/build.ts",
    "// (deno run --allow-read --allow-write src/gpt2/host/wasm/build.ts).",
    "",
    `/** The module's ${bytes.length} bytes, base64. */`,
    "export const SOFTMAX_WASM_BASE64 = [",
    ...lines,
    '].join("");',
    "",
  ].join("\n");
}

if (import.meta.main) {
  const text = renderSoftmaxWasmTs(await buildSoftmaxWasm());
  await Deno.writeTextFile(SOFTMAX_WASM_TS_URL, text);
  console.log(`wrote ${SOFTMAX_WASM_TS_URL.pathname}`);
}
