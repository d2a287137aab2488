// The parity suites on the CPU backend: the kernel tests and the model, influence, projection,
// TracIn and Simfluence parity tests below run once more, in a child `deno test`, with
// SIMFLUENCE_BACKEND=cpu (tests/helpers/gpu.ts makes the shared runtime from it). So every
// kernel's CPU port meets the same float64 references, fixtures (transformers, kronfluence) and
// tolerances as its WGSL, through the same tests. Without OpenBLAS there is no CPU backend to test.
import { linearAlgebraStatus } from "../../src/linalg/select.ts";
import { defineChildSuite } from "../helpers/child_suite.ts";

const SUITE = [
  // kernels, each against its float64 reference on odd shapes
  "tests/gpu/copy.test.ts",
  "tests/gpu/elementwise.test.ts",
  "tests/gpu/fill.test.ts",
  "tests/gpu/matmul.test.ts",
  "tests/gpu/reduce.test.ts",
  "tests/gpu/runtime.test.ts",
  "tests/gpu/softmax.test.ts",
  "tests/gpu/transpose.test.ts",
  "tests/gpt2/attention.test.ts",
  "tests/gpt2/attention_tangent.test.ts",
  "tests/gpt2/cross_entropy.test.ts",
  "tests/gpt2/cross_entropy_tangent.test.ts",
  "tests/gpt2/embedding.test.ts",
  "tests/gpt2/layernorm.test.ts",
  "tests/gpt2/layernorm_tangent.test.ts",
  "tests/gpt2/optimizer.test.ts",
  "tests/gpt2/optimizer_reverse.test.ts",
  "tests/gpt2/sample.test.ts",
  "tests/influence/correction.test.ts",
  "tests/influence/covariance.test.ts",
  "tests/influence/lowrank.test.ts",
  "tests/influence/precondition.test.ts",
  "tests/projection/dense.test.ts",
  "tests/projection/kronecker.test.ts",
  "tests/simfluence/simulate.test.ts",
  "tests/simfluence/solver.test.ts",
  // end to end: the float64 model, the transformers and kronfluence fixtures, trajectories
  "tests/gpt2/parity.test.ts",
  "tests/gpt2/hf_parity.test.ts",
  "tests/gpt2/hvp.test.ts",
  "tests/influence/pipeline.test.ts",
  "tests/influence/http.test.ts",
  "tests/metagradients/exactness.test.ts",
  "tests/projection/projection.test.ts",
  "tests/tracin/engine.test.ts",
  "tests/training/recorder.test.ts",
  "tests/simfluence/fit.test.ts",
  "tests/platform/http_gpu.test.ts",
  "tests/cli/gpu.test.ts",
];

defineChildSuite({
  label: "CPU backend",
  files: SUITE,
  env: { SIMFLUENCE_BACKEND: "cpu" },
  // Without OpenBLAS there is no CPU backend to test.
  ignore: linearAlgebraStatus().backend !== "openblas",
});
