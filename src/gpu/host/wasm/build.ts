// Generator of src/gpu/host/wasm/gelu_wasm.ts: compiles gelu.wat (WebAssembly text, SIMD) with the
// npm package wabt and writes the module's bytes as a base64 string constant, so the service never
// needs wabt at run time. Run with `deno task gen:wasm`; tests/gpu/host_gelu_wasm.test.ts checks
// that the committed file is what this writes.
import wabtInit from "wabt";

const here = new URL(".", import.meta.url);
export const GELU_WAT_URL = new URL("gelu.wat", here);
export const GELU_WASM_TS_URL = new URL("gelu_wasm.ts", here);

/** The module's bytes, compiled from gelu.wat. */
export async function buildGeluWasm(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const text = await Deno.readTextFile(GELU_WAT_URL);
  const module = wabt.parseWat("gelu.wat", text, { simd: true });
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

/** The text of gelu_wasm.ts for these bytes. */
export function renderGeluWasmTs(bytes: Uint8Array): string {
  const base64 = toBase64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 96) lines.push(`  "${base64.slice(i, i + 96)}",`);
  return [
    "// GENERATED FILE, do not edit: the WebAssembly module compiled from",
    "// src/gpu/host/wasm/gelu.wat by src/gpu/host/wasm/build.ts",
    "// (`deno task gen:wasm`, i.e. deno run --allow-read --allow-write src/gpu/host/wasm/build.ts).",
    "",
    `/** The module's ${bytes.length} bytes, base64. */`,
    "export const GELU_WASM_BASE64 = [",
    ...lines,
    '].join("");',
    "",
  ].join("\n");
}

if (import.meta.main) {
  const text = renderGeluWasmTs(await buildGeluWasm());
  await Deno.writeTextFile(GELU_WASM_TS_URL, text);
  console.log(`wrote ${GELU_WASM_TS_URL.pathname}`);
}
