// Generator of the CPU backend's WebAssembly modules: compiles each .wat (WebAssembly text, SIMD)
// with the npm package wabt and writes the module's bytes as a base64 string constant beside it,
// so the service never needs wabt at run time: src/gpu/host/wasm/gelu.wat -> gelu_wasm.ts and
// src/simfluence/math/host/wasm/solver.wat -> solver_wasm.ts. Run with `deno task gen:wasm`;
// tests/gpu/host_gelu_wasm.test.ts and tests/simfluence/host_solver_wasm.test.ts check that the
// committed files are what this writes.
import wabtInit from "wabt";

const here = new URL(".", import.meta.url);
export const GELU_WAT_URL = new URL("gelu.wat", here);
export const GELU_WASM_TS_URL = new URL("gelu_wasm.ts", here);
const solverHere = new URL("../../../simfluence/math/host/wasm/", here);
export const SOLVER_WAT_URL = new URL("solver.wat", solverHere);
export const SOLVER_WASM_TS_URL = new URL("solver_wasm.ts", solverHere);

/** The module's bytes, compiled from gelu.wat. */
export function buildGeluWasm(): Promise<Uint8Array> {
  return buildWasm(GELU_WAT_URL, "gelu.wat");
}

/** The module's bytes, compiled from the Simfluence solver's solver.wat. */
export function buildSolverWasm(): Promise<Uint8Array> {
  return buildWasm(SOLVER_WAT_URL, "solver.wat");
}

async function buildWasm(url: URL, name: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const text = await Deno.readTextFile(url);
  const module = wabt.parseWat(name, text, { simd: true });
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
  return renderWasmTs(bytes, "src/gpu/host/wasm/gelu.wat", "GELU_WASM_BASE64");
}

/** The text of solver_wasm.ts for these bytes. */
export function renderSolverWasmTs(bytes: Uint8Array): string {
  return renderWasmTs(bytes, "src/simfluence/math/host/wasm/solver.wat", "SOLVER_WASM_BASE64");
}

function renderWasmTs(bytes: Uint8Array, source: string, constant: string): string {
  const base64 = toBase64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 96) lines.push(`  "${base64.slice(i, i + 96)}",`);
  return [
    "// GENERATED FILE, do not edit: the WebAssembly module compiled from",
    `// ${source} by src/gpu/host/wasm/build.ts`,
    "// (`deno task gen:wasm`, i.e. deno run --allow-read --allow-write src/gpu/host/wasm/build.ts).",
    "",
    `/** The module's ${bytes.length} bytes, base64. */`,
    `export const ${constant} = [`,
    ...lines,
    '].join("");',
    "",
  ].join("\n");
}

if (import.meta.main) {
  const outputs: [URL, string][] = [
    [GELU_WASM_TS_URL, renderGeluWasmTs(await buildGeluWasm())],
    [SOLVER_WASM_TS_URL, renderSolverWasmTs(await buildSolverWasm())],
  ];
  for (const [url, text] of outputs) {
    await Deno.writeTextFile(url, text);
    console.log(`wrote ${url.pathname}`);
  }
}
