// The one place that chooses how float64 linear algebra runs: OpenBLAS's LAPACK and BLAS when the
// library opens (lapack.ts), the project's TypeScript routines otherwise (typescript.ts, also the
// reference the tests compare LAPACK against). Callers ask `linearAlgebra()` and never look at
// which one they got, except where a whole algorithm differs (the trak scores' batched products).
import type { Logger } from "../log.ts";
import { LapackRoutines } from "./lapack.ts";
import { type OpenBlas, OPENBLAS_INSTALL, type OpenBlasLoad, openOpenBlas } from "./openblas.ts";
import { typescriptRoutines } from "./typescript.ts";
import type { LinearAlgebra, LinearAlgebraBackend } from "./routines.ts";

export type { LinearAlgebra, LinearAlgebraBackend } from "./routines.ts";

/** What GET /v1/device reports as `linearAlgebra`. */
export interface LinearAlgebraStatus {
  backend: LinearAlgebraBackend;
  /** The library's path when OpenBLAS is in use. */
  library: string | null;
  /** OpenBLAS's thread count (null without it). */
  threads: number | null;
  /** Why OpenBLAS could not be used (null when it is). */
  unavailableReason: string | null;
  /** The apt line that installs the library. */
  install: string;
}

export interface LinearAlgebraSelection {
  routines: LinearAlgebra;
  status: LinearAlgebraStatus;
  /** The opened library (the CPU backend's sgemm uses it too), or null. */
  library: OpenBlas | null;
}

/** OpenBLAS when `load` opens it, the TypeScript routines otherwise. Never throws. */
export function selectLinearAlgebra(
  load: () => OpenBlasLoad = () => openOpenBlas(),
): LinearAlgebraSelection {
  const opened = load();
  if (opened.ok) {
    const lapack = new LapackRoutines(opened.library);
    return {
      routines: {
        backend: "openblas",
        symmetricEigen: (a, n, o) => lapack.symmetricEigen(a, n, o),
        svd: (m, r, c) => lapack.svd(m, r, c),
        lowRankFactors: (m, r, c, k) => lapack.lowRankFactors(m, r, c, k),
        cholesky: (a, n) => lapack.cholesky(a, n),
        choleskySolve: (l, n, b, nrhs) => lapack.choleskySolve(l, n, b, nrhs),
        dgemm: (ta, tb, m, n, k, al, a, b, be, c) => lapack.dgemm(ta, tb, m, n, k, al, a, b, be, c),
      },
      status: {
        backend: "openblas",
        library: opened.library.path,
        threads: opened.library.threads,
        unavailableReason: null,
        install: OPENBLAS_INSTALL,
      },
      library: opened.library,
    };
  }
  return {
    routines: typescriptRoutines,
    status: {
      backend: "typescript",
      library: null,
      threads: null,
      unavailableReason: opened.reason,
      install: OPENBLAS_INSTALL,
    },
    library: null,
  };
}

let selected: LinearAlgebraSelection | null = null;

/** The process's selection, made (and the library opened) on first use. */
function selection(): LinearAlgebraSelection {
  selected ??= selectLinearAlgebra();
  return selected;
}

/** The routines every caller uses. */
export function linearAlgebra(): LinearAlgebra {
  return selection().routines;
}

/** The process's OpenBLAS, or null when it did not open. */
export function openBlasLibrary(): OpenBlas | null {
  return selection().library;
}

export function linearAlgebraStatus(): LinearAlgebraStatus {
  return selection().status;
}

/** Start-up: opens the library now and says once which routines the service will use. */
export function logLinearAlgebra(
  logger: Logger,
  status: LinearAlgebraStatus = linearAlgebraStatus(),
): void {
  if (status.backend === "openblas") {
    logger.info("linear algebra: OpenBLAS", { library: status.library, threads: status.threads });
  } else {
    logger.warn(
      `linear algebra: OpenBLAS could not be opened, using the slower TypeScript routines; install it with \`${status.install}\``,
      { reason: status.unavailableReason },
    );
  }
}
