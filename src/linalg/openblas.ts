// The FFI binding to OpenBLAS (Debian's libopenblas0-pthread): its BLAS through CBLAS and its
// LAPACK through the Fortran symbols, because Debian's build exports no LAPACKE. Fortran passes
// every argument by reference, so each scalar travels as a one-element typed array and each
// CHARACTER as one byte; matrices are column-major.
//
// The library is opened at most once per process, on first use; `openOpenBlas` is the injectable
// loader the tests use to see the fallback when no library can be opened.

/** The apt line that installs the library on Debian and Ubuntu. */
export const OPENBLAS_INSTALL = "apt-get install -y libopenblas0-pthread";

/**
 * Where Debian-family systems put the library, tried in order. Absolute paths, because the
 * service runs with `--allow-ffi=<path>` (launcher.ts) and a bare soname would not match it.
 */
export const OPENBLAS_CANDIDATES = [
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "/usr/lib64/libopenblas.so.0",
  "/usr/lib/libopenblas.so.0",
  "/usr/local/lib/libopenblas.so.0",
] as const;

const SYMBOLS = {
  // void cblas_dgemm(order, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
  cblas_dgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f64",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f64",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  // void cblas_sgemm(order, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc): the
  // CPU backend's matmul (src/gpu/host/matmul.ts)
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  // dsyevd(jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info)
  dsyevd_: { parameters: Array(11).fill("buffer"), result: "void" },
  // dgesdd(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info)
  dgesdd_: { parameters: Array(14).fill("buffer"), result: "void" },
  // dpotrf(uplo, n, a, lda, info)
  dpotrf_: { parameters: Array(5).fill("buffer"), result: "void" },
  // dpotrs(uplo, n, nrhs, a, lda, b, ldb, info)
  dpotrs_: { parameters: Array(8).fill("buffer"), result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  // Sets the threads of every later call (blas_threads.ts narrows it around small products).
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

export type OpenBlasSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

export interface OpenBlas {
  /** The path it was opened from. */
  path: string;
  symbols: OpenBlasSymbols;
  threads: number;
}

export type OpenBlasLoad =
  | { ok: true; library: OpenBlas }
  | { ok: false; reason: string };

/**
 * OpenBLAS's threads spin after each call for 2^28 cycles (about 0.1 s) before they sleep, which
 * takes a core from everything else that runs between calls (the CPU backend's JavaScript and
 * worker threads: a training step ran no faster on two threads than on one). 2^12 cycles lets
 * them sleep at once; a user's own setting wins. Read once, when the library opens.
 */
const THREAD_TIMEOUT = "12";

function preferShortSpin(): void {
  try {
    if (Deno.env.get("OPENBLAS_THREAD_TIMEOUT") === undefined) {
      Deno.env.set("OPENBLAS_THREAD_TIMEOUT", THREAD_TIMEOUT);
    }
  } catch {
    // no env permission: the library's default
  }
}

/** Tries each candidate path in order; never throws. */
export function openOpenBlas(candidates: readonly string[] = OPENBLAS_CANDIDATES): OpenBlasLoad {
  preferShortSpin();
  const failures: string[] = [];
  for (const path of candidates) {
    try {
      const lib = Deno.dlopen(path, SYMBOLS);
      return {
        ok: true,
        library: { path, symbols: lib.symbols, threads: lib.symbols.openblas_get_num_threads() },
      };
    } catch (e) {
      failures.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { ok: false, reason: failures.join("; ") || "no candidate paths" };
}

/**
 * The first candidate that exists on disk, for the launcher's `--allow-ffi` (it can read the
 * file system; the service cannot). Null when none does.
 */
export function findOpenBlas(candidates: readonly string[] = OPENBLAS_CANDIDATES): string | null {
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // absent or unreadable: try the next
    }
  }
  return null;
}
