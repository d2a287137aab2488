// An optimised curriculum as a file (GET /v1/curricula/optimizations/:id/curriculum): JSON with
// its provenance, or GPTfluence's run layout (src/runs/gptfluence_format.ts) as a zip:
// train_samples_id.json holds the kept ids of each step's batch; with the simulator method,
// all_loss_trajectory.out holds the simulator's predicted loss of every test example of the study
// after every step (from the base run's L_0), so the file opens as a (simulated) run.
import { zipSync } from "fflate";
import { ConflictError } from "../errors.ts";
import { float32Decimal } from "../float32.ts";
import { RUNS } from "../runs/run_store.ts";
import { LOSS_FILE, TRAIN_FILE } from "../runs/gptfluence_format.ts";
import { indexBatches } from "../simfluence/study_runs.ts";
import { simulateCpu } from "../simfluence/math/reference/simulate.ts";
import { SIMULATORS } from "../simfluence/simulator_store.ts";
import type { Store } from "../store/store.ts";
import type { OptimizeRequest } from "./schemas.ts";
import { getOptimization, type StoredOptimization } from "./service.ts";

interface StoredCurriculum {
  kept: string[];
  order: number[];
  batches: string[][];
}

function curriculumOf(record: StoredOptimization): StoredCurriculum {
  const curriculum = (record.result as { curriculum?: StoredCurriculum } | null)?.curriculum;
  if (!curriculum) {
    throw new ConflictError(
      `optimization ${record.id} has no curriculum yet (${record.status})`,
      { field: "id", status: record.status },
      "not_ready",
    );
  }
  return curriculum;
}

/** The JSON download: the curriculum, what it dropped, its predictions and provenance. */
export function curriculumJson(store: Store, id: string) {
  const record = getOptimization(store, id);
  const curriculum = curriculumOf(record);
  const result = record.result as Record<string, unknown>;
  return {
    optimization: record.id,
    study: record.study,
    method: record.method,
    kept: curriculum.kept,
    order: curriculum.order,
    steps: curriculum.batches.map((batch, t) => ({ step: t + 1, batch })),
    changes: result.changes,
    predicted: result.predicted,
    verification: record.verification,
    provenance: result.provenance,
  };
}

const exportId = (id: string): string | number =>
  /^(0|-?[1-9][0-9]{0,14})$/.test(id) ? Number(id) : id;

/** The simulator's predicted losses of every study test after each step, when it still exists. */
async function predictedLosses(
  store: Store,
  record: StoredOptimization,
  batches: string[][],
): Promise<{ testIds: string[]; losses: Float32Array } | null> {
  const method = (record.request as OptimizeRequest).method;
  if (!("simulator" in method)) return null;
  const simulators = store.get(SIMULATORS);
  if (simulators.get(method.simulator)?.status !== "ready") return null;
  const testIds = store.get(RUNS).studyTestExamples(record.study);
  const provenance = (record.result as { provenance: { baseRun: string } }).provenance;
  if (!testIds || !store.get(RUNS).get(provenance.baseRun)) return null;
  const sim = await simulators.load(method.simulator, testIds);
  const base = await store.get(RUNS).load(provenance.baseRun);
  const index = new Map(sim.trainIds.map((id, i) => [id, i]));
  const losses = simulateCpu(sim.params, {
    batches: indexBatches(batches, index),
    initialLosses: base.run.losses.subarray(0, testIds.length),
  });
  return { testIds, losses };
}

/** The GPTfluence zip, and a file name for it. */
export async function curriculumGptfluence(
  store: Store,
  id: string,
): Promise<{ zip: Uint8Array; fileName: string }> {
  const record = getOptimization(store, id);
  const { batches } = curriculumOf(record);
  const encoder = new TextEncoder();
  const train =
    batches.map((batch, t) => JSON.stringify({ step: t + 1, samples_id: batch.map(exportId) }))
      .join("\n") + "\n";
  const files: Record<string, Uint8Array> = { [TRAIN_FILE]: encoder.encode(train) };
  const predicted = await predictedLosses(store, record, batches);
  if (predicted) {
    const m = predicted.testIds.length;
    const loss = predicted.testIds.map((test, j) =>
      JSON.stringify({
        id: exportId(test),
        loss_trajectory: Array.from(
          { length: batches.length + 1 },
          (_, t) => ({ step: t, loss: float32Decimal(predicted.losses[t * m + j]) }),
        ),
      })
    ).join("\n") + "\n";
    files[LOSS_FILE] = encoder.encode(loss);
  }
  return { zip: zipSync(files), fileName: `curriculum-${record.id.slice(0, 8)}.zip` };
}
