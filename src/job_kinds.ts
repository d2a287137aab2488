// Every job kind the service runs, defined in one place when the app is built: any node (api,
// worker or both) can then build any job's handler from its stored record (src/jobs/manager.ts).
import type { AppDeps } from "./http/types.ts";
import { defineOptimizeJobs } from "./curricula/service.ts";
import { ldsKind } from "./evaluations/service.ts";
import { deviceTuneKind } from "./gpu/tune_service.ts";
import { factorsKind } from "./influence/factors/service.ts";
import { influenceRecordKind } from "./influence/jobs.ts";
import { scoresJob } from "./influence/scores/service.ts";
import type { JobHandler } from "./jobs/manager.ts";
import { metagradientsKind } from "./metagradients/service.ts";
import { gradientScoresJob, type GradientScoresJobInput } from "./projection/score_service.ts";
import { gradientsKind } from "./projection/service.ts";
import { simulatorFitKind } from "./simfluence/service.ts";
import { tracinJob, type TracinJobInput } from "./tracin/service.ts";
import { trainingRunsKind } from "./training/service.ts";

export function defineJobKinds(deps: AppDeps): void {
  const { jobs } = deps;
  jobs.define("training-runs", trainingRunsKind(deps));
  jobs.define("simulator-fit", simulatorFitKind(deps));
  jobs.define("device-tune", deviceTuneKind(deps));
  jobs.define("gradients", gradientsKind(deps));
  jobs.define("influence-factors", factorsKind(deps));
  jobs.define("influence-scores", influenceScoresKind(deps));
  jobs.define("influence-metagradients", metagradientsKind(deps));
  jobs.define("lds", ldsKind(deps));
  // curriculum-optimize (a search on the CPU) and curriculum-optimize-gpu (metagradient descent,
  // or any verification by training), with their resumers.
  defineOptimizeJobs(deps);
}

type ScoresInput = Parameters<typeof scoresJob>[2];

/**
 * Score sets of three methods share the job kind "influence-scores" (and its resumer); the input
 * says which: TracIn, stored gradients, or influence functions. GPU for the kind as a whole,
 * though scores from stored gradients alone would run on a CPU.
 */
function influenceScoresKind(deps: AppDeps) {
  const { store, gpu } = deps;
  type Input = ScoresInput | TracinJobInput | GradientScoresJobInput;
  return influenceRecordKind<Input>(
    store,
    "scores",
    (input) => input.scores,
    (input, id): Promise<JobHandler<Input>> => {
      if ("method" in input && input.method === "tracin") return tracinJob(store, gpu, input, id);
      if ("gradients" in input && input.gradients) {
        return gradientScoresJob(store, input as GradientScoresJobInput, id);
      }
      return scoresJob(store, gpu, input as ScoresInput, id);
    },
  );
}
