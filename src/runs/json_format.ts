// The JSON upload format of a run: {study, name, testExamples, steps: [{batch, lr?, weights?}],
// losses}.
import { float32Decimals } from "../float32.ts";
import { z } from "@hono/zod-openapi";
import { checkLossRow, type RunInput, validateRunInput } from "./run_input.ts";
import { DEFAULT_RUN_LIMITS, type RunLimits } from "./run_limits.ts";

export const RunStepSchema = z.object({
  batch: z.array(z.string()).openapi({ example: ["e4", "e9"] }),
  lr: z.number().optional().openapi({ example: 1e-4 }),
  weights: z.array(z.number()).optional().openapi({
    description: "Data weights of the batch's entries (absent: all 1); an entry of weight 0 is " +
      "read as absent by simulators and LDS (a mask run, POST /v1/training-runs)",
    example: [1, 0],
  }),
}).strict();

export const RunJsonSchema = z.object({
  study: z.string().openapi({ example: "s1" }),
  name: z.string().openapi({ example: "run-07" }),
  testExamples: z.array(z.string()).openapi({ example: ["q1", "q2"] }),
  steps: z.array(RunStepSchema),
  losses: z.array(z.array(z.number())).openapi({
    description: "T+1 rows (row 0 before training), one column per test example. Stored as " +
      "float32 and returned as the shortest decimal that rounds to the same float32 (1.9, not " +
      "1.899999976158142): more digits than float32 holds are not kept.",
    example: [[2.3, 1.9], [2.1, 1.8]],
  }),
}).strict().openapi("RunJson");

export type RunJson = z.infer<typeof RunJsonSchema>;

export function runFromJson(body: RunJson, limits: RunLimits = DEFAULT_RUN_LIMITS): RunInput {
  const m = body.testExamples.length;
  const losses = new Float32Array(body.losses.length * Math.max(m, 1));
  body.losses.forEach((row, t) => losses.set(checkLossRow(row, m, `losses.${t}`), t * m));
  const run: RunInput = {
    study: body.study,
    name: body.name,
    testExamples: body.testExamples,
    steps: body.steps.map(({ batch, lr, weights }) => ({
      batch,
      ...(lr === undefined ? {} : { lr }),
      ...(weights === undefined ? {} : { weights }),
    })),
    losses,
  };
  validateRunInput(run, limits);
  return run;
}

export function runToJson(run: RunInput): RunJson {
  const m = run.testExamples.length;
  const losses: number[][] = [];
  for (let t = 0; t <= run.steps.length; t++) {
    losses.push(float32Decimals(run.losses.subarray(t * m, (t + 1) * m)));
  }
  return {
    study: run.study,
    name: run.name,
    testExamples: run.testExamples,
    steps: run.steps,
    losses,
  };
}
