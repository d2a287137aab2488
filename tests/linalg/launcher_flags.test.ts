// The launcher lets the service open exactly OpenBLAS's file, and nothing when it is absent.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { servicePermissionFlags } from "../../src/launcher.ts";
import { findOpenBlas } from "../../src/linalg/openblas.ts";
import { openblasPresent } from "./helpers.ts";

Deno.test("launcher: --allow-ffi names the library's path, and only when one is found", () => {
  const lib = "/usr/lib/x86_64-linux-gnu/libopenblas.so.0";
  const withLib = servicePermissionFlags(parseConfig({}), {}, "/srv", lib);
  assert.deepEqual(withLib.filter((f) => f.startsWith("--allow-ffi")), [`--allow-ffi=${lib}`]);
  const without = servicePermissionFlags(parseConfig({}), {}, "/srv", null);
  assert.ok(!without.some((f) => f.startsWith("--allow-ffi")));
  assert.equal(findOpenBlas(["/nonexistent/libopenblas.so.0"]), null);
  // Where it is installed (.ci/run installs it): the first candidate on disk.
  const found = findOpenBlas();
  if (openblasPresent) assert.ok(found?.endsWith("libopenblas.so.0"), `found ${found}`);
  else assert.equal(found, null);
});
