// Every capability's store module, registered when the store opens, in an order that respects
// their foreign keys (runs before simulators). A new capability with tables adds one line here.
import { CURRICULA } from "./curricula/store.ts";
import { DATASETS } from "./datasets/dataset_store.ts";
import { EVALUATIONS } from "./evaluations/store.ts";
import { INFLUENCE } from "./influence/store.ts";
import { MODELS } from "./models/model_store.ts";
import { GRADIENTS } from "./projection/store.ts";
import { RUNS } from "./runs/run_store.ts";
import { SIMULATORS } from "./simfluence/simulator_store.ts";

export const STORE_MODULES = [
  RUNS,
  SIMULATORS,
  DATASETS,
  MODELS,
  INFLUENCE,
  GRADIENTS,
  EVALUATIONS,
  CURRICULA,
] as const;
