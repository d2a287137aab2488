// Every route module, registered in this order by createApp. Add new modules here.
import type { RouteModule } from "../src/http/types.ts";
import { curriculaRoutes } from "./curricula.ts";
import { datasetRoutes } from "./datasets.ts";
import { deviceRoutes } from "./device.ts";
import { evaluationRoutes } from "./evaluations.ts";
import { gradientRoutes } from "./gradients.ts";
import { healthRoutes } from "./health.ts";
import { influenceRoutes } from "./influence.ts";
import { jobRoutes } from "./jobs.ts";
import { metagradientRoutes } from "./metagradients.ts";
import { modelRoutes } from "./models.ts";
import { nodeRoutes } from "./nodes.ts";
import { openapiRoutes } from "./openapi.ts";
import { runRoutes } from "./runs.ts";
import { simulationRoutes } from "./simulations.ts";
import { simulatorRoutes } from "./simulators.ts";
import { studyRoutes } from "./studies.ts";
import { trainingRunRoutes } from "./training_runs.ts";
import { tracinRoutes } from "./tracin.ts";
import { uiRoutes } from "./ui.ts";

export const ROUTE_MODULES: readonly RouteModule[] = [
  healthRoutes,
  deviceRoutes,
  jobRoutes,
  nodeRoutes,
  studyRoutes,
  runRoutes,
  simulatorRoutes,
  simulationRoutes,
  trainingRunRoutes,
  datasetRoutes,
  modelRoutes,
  influenceRoutes,
  tracinRoutes,
  metagradientRoutes,
  evaluationRoutes,
  curriculaRoutes,
  gradientRoutes,
  openapiRoutes,
  uiRoutes,
];
