// Every job kind the service runs, defined in one place when the app is built: any node (api,
// worker or both) can then build any job's handler from its stored record (src/jobs/manager.ts).
import type { AppDeps } from "./http/types.ts";
import { deviceTuneKind } from "./gpu/tune_service.ts";
import { simulatorFitKind } from "./simfluence/service.ts";
import { trainingRunsKind } from "./training/service.ts";

export function defineJobKinds(deps: AppDeps): void {
  const { jobs } = deps;
  jobs.define("training-runs", trainingRunsKind(deps));
  jobs.define("simulator-fit", simulatorFitKind(deps));
  jobs.define("device-tune", deviceTuneKind(deps));
}
