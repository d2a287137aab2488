// influence_lowrank against its float64 reference on odd shapes: pair sums and token terms, and
// token terms summing to the pair score.
import { lowRankPairs, lowRankTokens } from "../../src/influence/kernels/lowrank.ts";
import { lowRankScoresReference } from "../../src/influence/reference/lowrank.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

Deno.test("influence lowrank: pairs and tokens on odd shapes", gpuTest, async () => {
  const rt = await testRuntime();
  for (const [Q, B, T, k] of [[1, 1, 1, 1], [3, 5, 7, 4], [2, 3, 33, 5]]) {
    const x = randomF32(B * T * Q * k, Q + B + T + k);
    const y = randomF32(B * T * Q * k, Q * B * T * k);
    const xT = rt.tensor(x, [B * T, Q * k]);
    const yT = rt.tensor(y, [B * T, Q * k]);
    const pairs = rt.zeros([B, Q]);
    const start = randomF32(Q * B * T, 3);
    const tokens = rt.tensor(start, [Q, B, T]);
    await lowRankPairs(rt, xT, yT, { Q, B, T, k }, pairs);
    await lowRankTokens(rt, xT, yT, { Q, B, T, k }, tokens);
    const want = lowRankScoresReference(x, y, Q, B, T, k);
    const rel = (T * k + 2) * 2 ** -24;
    assertClose(await rt.readOne(pairs), want.pairs, { rel, scale: want.pairScale }, "pairs");
    const wantTokens = want.tokens.map((v, i) => v + start[i]);
    assertClose(await rt.readOne(tokens), wantTokens, { abs: 1e-6 }, "tokens");
    for (const t of [xT, yT, pairs, tokens]) t.dispose();
  }
});
