// Generator of the CPU backend's WebAssembly modules: compiles each .wat (WebAssembly text, SIMD)
// with the npm package wabt and writes the module's bytes as a base64 string constant beside it,
// so the service never needs wabt at run time. Run with `deno task gen:wasm`; each module's test
// checks that its committed file is what this writes.
import wabtInit from "wabt";

const SRC = new URL("../../../", import.meta.url);

interface WasmModule {
  /** The .wat source, from src/. */
  wat: string;
  /** The generated TypeScript file, from src/. */
  out: string;
  /** The base64 constant it exports. */
  constant: string;
}

export const WASM_MODULES = {
  gelu: {
    wat: "gpu/host/wasm/gelu.wat",
    out: "gpu/host/wasm/gelu_wasm.ts",
    constant: "GELU_WASM_BASE64",
  },
  softmax: {
    wat: "gpt2/host/wasm/softmax.wat",
    out: "gpt2/host/wasm/softmax_wasm.ts",
    constant: "SOFTMAX_WASM_BASE64",
  },
  solver: {
    wat: "simfluence/math/host/wasm/solver.wat",
    out: "simfluence/math/host/wasm/solver_wasm.ts",
    constant: "SOLVER_WASM_BASE64",
  },
} as const satisfies Record<string, WasmModule>;

export type WasmModuleName = keyof typeof WASM_MODULES;

/** The module's bytes, compiled from its .wat. */
export async function buildWasm(name: WasmModuleName): Promise<Uint8Array> {
  const { wat } = WASM_MODULES[name];
  const wabt = await wabtInit();
  const text = await Deno.readTextFile(new URL(wat, SRC));
  const module = wabt.parseWat(wat.split("/").pop()!, text, { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer.slice();
  } finally {
    module.destroy();
  }
}

/** Where the module's generated file is. */
export function generatedWasmUrl(name: WasmModuleName): URL {
  return new URL(WASM_MODULES[name].out, SRC);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The text of the module's generated file for these bytes. */
export function renderWasmTs(name: WasmModuleName, bytes: Uint8Array): string {
  const { wat, constant } = WASM_MODULES[name];
  const base64 = toBase64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 96) lines.push(`  "${base64.slice(i, i + 96)}",`);
  return [
    "// GENERATED FILE, do not edit: the WebAssembly module compiled from",
    `// src/${wat} by src/gpu/host/wasm/build.ts`,
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
  for (const name of Object.keys(WASM_MODULES) as WasmModuleName[]) {
    const url = generatedWasmUrl(name);
    await Deno.writeTextFile(url, renderWasmTs(name, await buildWasm(name)));
    console.log(`wrote ${url.pathname}`);
  }
}
