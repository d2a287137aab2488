// OpenBLAS splits each call over all its threads. For small products (the CPU attention port's
// per-head 128 × 128 × 32 ones) the hand-off to the other thread costs more than it saves: on
// this 2-core machine one thread ran them 3× faster than two. Such loops run inside
// `withOneBlasThread`; every other call keeps all threads.
import { openBlasLibrary } from "./select.ts";

/** Runs `work` with OpenBLAS on one thread, then gives its threads back (also on a throw). */
export function withOneBlasThread<T>(work: () => T): T {
  const blas = openBlasLibrary();
  if (!blas || blas.threads <= 1) return work();
  blas.symbols.openblas_set_num_threads(1);
  try {
    return work();
  } finally {
    blas.symbols.openblas_set_num_threads(blas.threads);
  }
}
