// `simfluence gradients` and `simfluence influence projected` against a real service on the WebGPU
// adapter (llvmpipe here), tiny shapes: project a tiny model's gradients for six training and two
// query examples, download them, and score them with dot and TRAK; the dot scores must be the
// products of the downloaded rows.
import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { startService } from "./harness.ts";

const TRAIN = ["add1-0", "add1-1", "add1-2", "add1-3", "add1-4", "add1-5"];
const QUERIES = ["add1-0", "add1-3"];
const DIM = 8;

/** The [n, dim] float32 tensor `gradients` of a safetensors file, as rows. */
function safetensorRows(bytes: Uint8Array, name: string): number[][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const { dtype, shape, data_offsets: [start, end] } = header[name];
  assert.equal(dtype, "F32");
  const data = new Float32Array(
    bytes.slice(8 + headerLength + start, 8 + headerLength + end).buffer,
  );
  return Array.from(
    { length: shape[0] },
    (_, i) => Array.from(data.subarray(i * shape[1], (i + 1) * shape[1])),
  );
}

Deno.test(
  "cli: gradients create, download, and influence projected on the GPU",
  gpuTest,
  async (t) => {
    const gpu = gpuFromRuntime(await testRuntime(), () => ({}), { ownsRuntime: false });
    const service = await startService({ gpu });
    const dir = await Deno.makeTempDir({ prefix: "simfluence-cli-grad-" });
    try {
      const config = join(dir, "config.json");
      await Deno.writeTextFile(
        config,
        JSON.stringify({ vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 }),
      );
      const created = await service.cli(["--json", "models", "create", "--config", config]);
      assert.equal(created.code, 0, created.stderr);
      const model = JSON.parse(created.stdout).id;
      const project = async (ids: string[]) => {
        const res = await service.cli([
          "--json",
          "gradients",
          "create",
          "--model",
          model,
          "--dataset",
          "builtin:skills",
          "--ids",
          ids.join(","),
          "--projection",
          "dense",
          "--dim",
          String(DIM),
          "--parameters",
          "mlp",
        ]);
        assert.equal(res.code, 0, res.stderr);
        return JSON.parse(res.stdout);
      };
      const train = await project(TRAIN);
      const queries = await project(QUERIES);

      await t.step("gradients create follows the job; show and list agree", async () => {
        assert.equal(train.status, "ready");
        assert.deepEqual(train.shape, [TRAIN.length, DIM]);
        assert.deepEqual(train.projection, { kind: "dense", dim: DIM, seed: 0 });
        const shown = await service.cli(["gradients", "show", train.id]);
        assert.equal(shown.code, 0, shown.stderr);
        assert.match(shown.stdout, /│ projection\s+│ dense, dim 8, seed 0/);
        const listed = JSON.parse((await service.cli(["--json", "gradients", "list"])).stdout);
        assert.equal(listed.total, 2);
      });

      const file = join(dir, "train.safetensors");
      const queryFile = join(dir, "queries.safetensors");
      await t.step("gradients download writes the safetensors file", async () => {
        for (const [id, path] of [[train.id, file], [queries.id, queryFile]]) {
          const res = await service.cli(["gradients", "download", id, "-o", path]);
          assert.equal(res.code, 0, res.stderr);
          assert.match(res.stdout, /^wrote /);
        }
        assert.equal(safetensorRows(await Deno.readFile(file), "gradients").length, TRAIN.length);
      });

      await t.step(
        "influence projected: dot scores are the rows' products; TRAK runs",
        async () => {
          const res = await service.cli([
            "--json",
            "influence",
            "projected",
            "--train-gradients",
            train.id,
            "--query-gradients",
            queries.id,
            "--method",
            "dot",
            "--top",
            "2",
            "--query-ids",
            QUERIES.join(","),
          ]);
          assert.equal(res.code, 0, res.stderr);
          const { scores: set, top } = JSON.parse(res.stdout);
          assert.deepEqual(set.shape, [QUERIES.length, TRAIN.length]);
          assert.deepEqual(top.map((q: { query: string }) => q.query), QUERIES);
          const matrix = await (await fetch(
            `${service.url}/v1/influence/scores/${set.id}/matrix?format=json`,
          )).json();
          const g = safetensorRows(await Deno.readFile(file), "gradients");
          const q = safetensorRows(await Deno.readFile(queryFile), "gradients");
          assert.ok(matrix.scores.flat().some((v: number) => Math.abs(v) > 1e-8), "all zero");
          for (let i = 0; i < QUERIES.length; i++) {
            for (let j = 0; j < TRAIN.length; j++) {
              const expected = q[i].reduce((sum, v, k) => sum + v * g[j][k], 0);
              const scale = Math.max(1e-6, Math.abs(expected));
              // float32 sums of 8 products: 1e-4 relative.
              assert.ok(
                Math.abs(matrix.scores[i][j] - expected) <= 1e-4 * scale,
                `score[${i}][${j}] ${matrix.scores[i][j]} vs ${expected}`,
              );
            }
          }
          const trak = await service.cli([
            "influence",
            "projected",
            "--train-gradients",
            train.id,
            "--query-gradients",
            queries.id,
            "--method",
            "trak",
          ]);
          assert.equal(trak.code, 0, trak.stderr);
          assert.match(trak.stdout, /scores \S+: 2 × 6 \(queries × training\)/);
        },
      );

      await t.step("usage errors and delete", async () => {
        const both = await service.cli([
          "gradients",
          "create",
          "--dataset",
          "builtin:skills",
          "--projection",
          "dense",
          "--dim",
          "4",
        ]);
        assert.equal(both.code, 2, both.stderr);
        assert.match(both.stderr, /--model and --run/);
        const damping = await service.cli([
          "influence",
          "projected",
          "--train-gradients",
          train.id,
          "--query-gradients",
          queries.id,
          "--damping",
          "0.1",
        ]);
        assert.equal(damping.code, 2, damping.stderr);
        const gone = await service.cli(["gradients", "delete", train.id]);
        assert.equal(gone.code, 0, gone.stderr);
        assert.equal((await service.cli(["gradients", "show", train.id])).code, 3);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
      await service.stop();
    }
  },
);
