// One way to start the CPU backend's committed WebAssembly modules (the base64 constants that
// build.ts generates): synchronously, at import, with no imports of their own. Null where
// WebAssembly SIMD is unavailable (compilation throws), so that each caller keeps its scalar path.

/** The module's exports, or null when it cannot be compiled here. */
export function instantiateWasm<Exports>(base64: string): Exports | null {
  try {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return instance.exports as unknown as Exports;
  } catch {
    return null;
  }
}
