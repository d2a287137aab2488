// The float64 reference of shaders/curricula_rollout.wgsl (launched by ../kernels/rollout.ts). The
// search's CPU path is itself that reference, in float64 over the same RolloutProblem, so this
// names it where the kernel convention looks (tests/kernel_index.test.ts) instead of copying it.
export { rolloutBatch as rolloutReference } from "../batched_rollout.ts";
