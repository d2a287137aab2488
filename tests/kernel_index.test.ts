// Every shader belongs to a kernel family that can be found from its name. For a family F of
// capability C the files are
//   shaders/<prefix>F[_variant].wgsl   the shader(s)
//   src/<C>/kernels/F.ts               the TypeScript launcher, which names each of its shaders
//   src/<C>/reference/F.ts             its float64 CPU reference
//   tests/<T>/F.test.ts                its test
// with (prefix, C, T) from CAPABILITIES below. F may itself contain underscores (e.g.
// gpt2_cross_entropy.wgsl): it is the longest leading run of `_`-separated words of the name
// (after the prefix) that has a launcher, or the first word when none has one.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

interface Capability {
  /** Shader file name prefix; "" for the core GPU capability. */
  prefix: string;
  /** src/<C>: where kernels/ and reference/ live. */
  src: string;
  /** Where the family's tests live. */
  tests: string;
}

// The empty prefix (core) comes last: it matches every name.
const CAPABILITIES: Capability[] = [
  { prefix: "gpt2_", src: "src/gpt2", tests: "tests/gpt2" },
  { prefix: "simfluence_", src: "src/simfluence/math", tests: "tests/simfluence" },
  { prefix: "influence_", src: "src/influence", tests: "tests/influence" },
  { prefix: "projection_", src: "src/projection", tests: "tests/projection" },
  { prefix: "curricula_", src: "src/curricula", tests: "tests/curricula" },
  { prefix: "", src: "src/gpu", tests: "tests/gpu" },
];

/**
 * Families that have no float64 reference, keyed "<src>/<family>", each with the reason. Only
 * where a reference would be meaningless, not merely missing.
 */
const NO_REFERENCE: Record<string, string> = {
  // fill writes one given constant: the expected output is that constant, so a reference would
  // only restate the test (tests/gpu/fill.test.ts compares with the value itself).
  "src/gpu/fill": "writes a constant",
};

function exists(path: string): boolean {
  try {
    Deno.statSync(new URL(path, ROOT));
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

interface KernelFiles {
  shader: string;
  family: string;
  key: string;
  launcher: string;
  reference: string;
  test: string;
}

/** Where the convention puts the launcher, reference and test of shaders/<shader>.wgsl. */
function kernelFiles(shader: string): KernelFiles {
  const cap = CAPABILITIES.find((c) => shader.startsWith(c.prefix))!;
  const words = shader.slice(cap.prefix.length).split("_");
  let family = words[0];
  for (let n = words.length; n >= 1; n--) {
    const candidate = words.slice(0, n).join("_");
    if (exists(`${cap.src}/kernels/${candidate}.ts`)) {
      family = candidate;
      break;
    }
  }
  return {
    shader,
    family,
    key: `${cap.src}/${family}`,
    launcher: `${cap.src}/kernels/${family}.ts`,
    reference: `${cap.src}/reference/${family}.ts`,
    test: `${cap.tests}/${family}.test.ts`,
  };
}

function shaderNames(): string[] {
  return [...Deno.readDirSync(new URL("shaders/", ROOT))]
    .filter((e) => e.isFile && e.name.endsWith(".wgsl"))
    .map((e) => e.name.slice(0, -".wgsl".length))
    .sort();
}

Deno.test("every shader has a launcher that names it, a float64 reference and a test", () => {
  const shaders = shaderNames();
  assert.ok(shaders.length > 0, "no shaders found");
  const misses: string[] = [];
  const families = new Set<string>();
  for (const shader of shaders) {
    const k = kernelFiles(shader);
    families.add(k.key);
    const file = `shaders/${shader}.wgsl`;
    if (!exists(k.launcher)) {
      misses.push(`${file}: no launcher ${k.launcher}`);
    } else {
      const text = Deno.readTextFileSync(new URL(k.launcher, ROOT));
      if (!new RegExp(`(?<!\\w)${shader}(?!\\w)`).test(text)) {
        misses.push(`${file}: ${k.launcher} does not mention "${shader}"`);
      }
    }
    if (!(k.key in NO_REFERENCE) && !exists(k.reference)) {
      misses.push(`${file}: no reference ${k.reference}`);
    }
    if (!exists(k.test)) misses.push(`${file}: no test ${k.test}`);
  }
  for (const key of Object.keys(NO_REFERENCE)) {
    if (!families.has(key)) misses.push(`NO_REFERENCE names ${key}, which has no shader`);
    else if (exists(`${key.replace(/\/([^/]+)$/, "/reference/$1")}.ts`)) {
      misses.push(`NO_REFERENCE names ${key}, which has a reference after all`);
    }
  }
  assert.ok(
    misses.length === 0,
    `${misses.length} kernel file(s) missing or not named:\n  ${misses.join("\n  ")}`,
  );
});

Deno.test("kernel files are found from shader names", () => {
  assert.deepEqual(kernelFiles("matmul_vec4"), {
    shader: "matmul_vec4",
    family: "matmul",
    key: "src/gpu/matmul",
    launcher: "src/gpu/kernels/matmul.ts",
    reference: "src/gpu/reference/matmul.ts",
    test: "tests/gpu/matmul.test.ts",
  });
  assert.equal(kernelFiles("fill").launcher, "src/gpu/kernels/fill.ts");
  assert.equal(
    kernelFiles("simfluence_solver_cg_step").reference,
    "src/simfluence/math/reference/solver.ts",
  );
  assert.equal(kernelFiles("simfluence_simulate").test, "tests/simfluence/simulate.test.ts");
  assert.equal(kernelFiles("influence_x_y").launcher, "src/influence/kernels/x.ts");
  assert.equal(kernelFiles("gpt2_x_y").test, "tests/gpt2/x.test.ts");
});
