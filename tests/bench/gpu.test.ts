// The GPU suite's parts that run without a GPU: bench/gpu_preflight.sh says in one line why no
// hardware adapter is reached (and which fix), the FP32 peak table matches the cards it names,
// and the suite's shrunk path (what a software adapter runs) gives every row it promises, each
// measured on WebGPU beside the CPU backend in the same run.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  CPU_BASELINE,
  CPU_FIT_NOT_TIMED,
  GPU_ROW_PREFIXES,
  gpuSuite,
  knownPeak,
  layersWithinEigenBudget,
  NO_CPU_BASELINE,
} from "../../bench/gpu.ts";
import { linearAlgebraStatus } from "../../src/linalg/select.ts";
import type { TrackedModule } from "../../src/influence/modules.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const REASON =
  /^(ready: \S|not ready: (no Vulkan loader|no ICD|only a software ICD|ICD present \(.*\) but no device))/;

async function preflight(env: Record<string, string> = {}) {
  const out = await new Deno.Command("bash", {
    args: ["bench/gpu_preflight.sh"],
    cwd: root,
    env: { DENO: Deno.execPath(), ...env },
    stdout: "piped",
    stderr: "null",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim());
  return { code: out.code, lines };
}

Deno.test("gpu_preflight.sh prints one line naming a reason and a fix, or ready", async () => {
  const { code, lines } = await preflight();
  assert.equal(lines.length, 1, `one line, got: ${lines.join(" | ")}`);
  assert.match(lines[0], REASON);
  if (lines[0].startsWith("ready:")) {
    assert.equal(code, 0);
  } else {
    assert.equal(code, 1);
    assert.match(lines[0], /Fix: /);
    // Every "not ready" names what WebGPU gave instead.
    assert.match(lines[0], /WebGPU (gives only a fallback adapter|gives no adapter)/);
  }
});

Deno.test("gpu_preflight.sh walks loader → ICD → device where this machine has neither", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "preflight-" });
  try {
    // No carried loader either (a prepared .gpu/vulkan in this checkout would count as one).
    const first = await preflight({ GPU_VULKAN_DIR: dir });
    if (!first.lines[0]?.startsWith("not ready: no Vulkan loader")) {
      await t.step({ name: "skipped: this machine has a Vulkan loader", ignore: true, fn() {} });
      return;
    }
    // A file of the loader's name is enough for the loader check (the adapter query still finds
    // only the software adapter, since it is no library).
    await Deno.writeTextFile(`${dir}/libvulkan.so.1`, "not a library");
    const noIcd = await preflight({ GPU_VULKAN_DIR: dir, LD_LIBRARY_PATH: dir });
    assert.match(noIcd.lines[0], /^not ready: no ICD \(no driver JSON under .*icd\.d/);
    assert.match(noIcd.lines[0], /VK_DRIVER_FILES/);

    await Deno.writeTextFile(`${dir}/fake_icd.json`, '{"ICD": {"library_path": "nowhere.so"}}');
    const noDevice = await preflight({
      GPU_VULKAN_DIR: dir,
      LD_LIBRARY_PATH: dir,
      VK_DRIVER_FILES: `${dir}/fake_icd.json`,
    });
    assert.match(noDevice.lines[0], /^not ready: ICD present \(.*fake_icd\.json\) but no device/);
    assert.equal(noDevice.code, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("knownPeak: the FP32 peak of the cards in the table, variants before the generic name", () => {
  const peak = (description: string, device = "") =>
    knownPeak({ description, vendor: "", device })?.tflops ?? null;
  assert.equal(peak("NVIDIA H100 80GB HBM3"), 67);
  assert.equal(peak("NVIDIA H100 PCIe"), 51);
  assert.equal(peak("NVIDIA H100 NVL"), 60);
  assert.equal(peak("NVIDIA H200"), 67);
  assert.equal(peak("NVIDIA H200 NVL"), 60);
  assert.equal(peak("NVIDIA A100-SXM4-80GB"), 19.5);
  assert.equal(peak("NVIDIA L40S"), 91.6);
  assert.equal(peak("NVIDIA L4"), 30.3);
  assert.equal(peak("NVIDIA GeForce RTX 4090"), 82.6);
  assert.equal(peak("", String(0x2330)), 67, "an empty name falls back to the PCI device id");
  assert.equal(peak("llvmpipe (LLVM 15.0.6, 256 bits)"), null);
  assert.equal(peak("AMD Radeon Graphics"), null);
});

Deno.test("layersWithinEigenBudget: every layer when cheap, else evenly spaced ones ending at the last", () => {
  const mlp = (L: number, d: number): TrackedModule[] =>
    Array.from({ length: L }, (_, l) => [
      { name: `h.${l}.mlp.c_fc`, dIn: d, dOut: 4 * d, cols: d + 1 },
      { name: `h.${l}.mlp.c_proj`, dIn: 4 * d, dOut: d, cols: 4 * d + 1 },
    ]).flat();
  const cheap = layersWithinEigenBudget(mlp(12, 4), 12);
  assert.deepEqual(cheap.layers, [...Array(12).keys()]);
  assert.equal(cheap.budget, "");
  // d = 100,000: ~10¹⁵× the probe's work per layer, over any budget on any CPU.
  const dear = layersWithinEigenBudget(mlp(12, 100_000), 12);
  assert.deepEqual(dear.layers, [11]);
  assert.match(dear.budget, /1 of 12 layers: all 12 would spend ~\d+ s in eigendecompositions/);
});

Deno.test({
  name: "the gpu suite's shrunk path gives every promised row on a software adapter",
  ...gpuTest,
  async fn(t) {
    const rt = await testRuntime();
    if (!rt.gpu.describe().isFallbackAdapter) {
      // On a real adapter the full suite takes minutes: run it with `deno task bench --suite gpu`.
      await t.step({ name: "skipped: hardware adapter", ignore: true, fn: () => {} });
      return;
    }
    const figures = await gpuSuite.run(rt, { quick: true });
    const names = figures.map((f) => f.name);
    assert.deepEqual(names.filter((n) => n.endsWith(": failed")), [], JSON.stringify(figures));
    for (const prefix of GPU_ROW_PREFIXES) {
      assert.ok(names.some((n) => n.startsWith(prefix)), `a row starting "${prefix}": ${names}`);
    }
    assert.equal(names.filter((n) => n.startsWith("gpu matmul ")).length, 4);
    const openBlas = linearAlgebraStatus().backend === "openblas";
    for (const f of figures) {
      assert.ok(Number.isFinite(f.value) && f.value > 0, `${f.name}: ${f.value}`);
      assert.ok(f.baselineName, `${f.name} names its baseline`);
      assert.equal(f.backend, "webgpu", `${f.name} is measured on WebGPU`);
      if (f.baseline === null) {
        // Only an unknown peak, the EK-FAC fit's seconds, or no OpenBLAS leave no baseline.
        assert.ok(
          f.baselineName!.startsWith("unknown peak") ||
            f.baselineName === CPU_FIT_NOT_TIMED ||
            (!openBlas && f.baselineName!.startsWith(NO_CPU_BASELINE)),
          `${f.name}: ${f.baselineName}`,
        );
      } else {
        assert.ok(Number.isFinite(f.baseline) && f.baseline > 0, `${f.name}: ${f.baseline}`);
        assert.ok(f.speedup !== null && Number.isFinite(f.speedup) && f.speedup > 0, f.name);
      }
    }
    // Each row says its sizes were shrunk: these are no GPU figures.
    for (const f of figures) assert.match(f.notes ?? "", /^shrunk: /, f.name);
    // Every figure but the peak, the step's matmul ratio and the fit's seconds has the CPU
    // backend beside it (where OpenBLAS opens; else each says why not).
    const besideCpu = names.filter((n) =>
      / vs CPU$|: tokens\/s$|covariance pass tokens\/s$|^gpu simfluence fit |^gpu rollout /.test(n)
    );
    assert.equal(besideCpu.length, 6, `${besideCpu}`);
    for (const name of besideCpu) {
      const f = figures.find((g) => g.name === name)!;
      if (openBlas) {
        assert.equal(f.baselineName, CPU_BASELINE, name);
        assert.ok(f.baseline !== null, name);
      } else {
        assert.ok(f.baselineName!.startsWith(NO_CPU_BASELINE), `${name}: ${f.baselineName}`);
      }
    }
    assert.ok(!figures.some((f) => /no CPU backend yet/.test(f.baselineName ?? "")));
  },
});
