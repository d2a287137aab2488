// What a simulation request may ask for: an explicit curriculum, or a variation of a stored run's
// curriculum (batch order permuted by a seed, ids dropped, ids repeated within their batches).
import { z } from "@hono/zod-openapi";
import { InvalidInputError } from "../errors.ts";
import { listSome } from "../runs/run_input.ts";
import { seededUniform, shuffled } from "../random.ts";

export const CurriculumRequestSchema = z.object({
  curriculum: z.array(z.array(z.string().max(256))).optional().openapi({
    description: "Batches of training ids, one per step",
    example: [["e1", "e7"], ["e3", "e4"]],
  }),
  fromRun: z.string().max(200).optional().openapi({
    description: "Start from this stored run's curriculum: a run of the simulator's study, by id " +
      "or by name",
  }),
  permute: z.number().int().min(0).max(2 ** 31 - 1).optional().openapi({
    description: "Seed: shuffle the order of the batches",
  }),
  drop: z.array(z.string().max(256)).optional().openapi({
    description: "Training ids removed from every batch (a batch may become empty: a no-op step)",
  }),
  repeat: z.record(z.string().max(256), z.number().int().min(0).max(1000)).optional().openapi({
    description: "Training id → how many times each of its occurrences counts (0 drops it)",
    example: { e4: 2 },
  }),
  unknown: z.enum(["error", "ignore"]).default("error").openapi({
    description: "Training ids the simulator has never seen, in `curriculum`, `drop` or " +
      "`repeat`: a 400 listing them (`details.field` names which), or no effect",
  }),
});

export type CurriculumRequest = z.infer<typeof CurriculumRequestSchema>;

/**
 * Resolves the request into batches of ids. `loadRun` gives a stored run's batches (and throws
 * its own 404/400). Unknown ids are checked against `known` unless the request ignores them.
 */
export async function resolveCurriculum(
  request: CurriculumRequest,
  known: ReadonlySet<string>,
  loadRun: (id: string) => Promise<string[][]>,
): Promise<string[][]> {
  if ((request.curriculum === undefined) === (request.fromRun === undefined)) {
    throw new InvalidInputError("give exactly one of `curriculum` and `fromRun`", {
      field: request.curriculum === undefined ? "curriculum" : "fromRun",
    });
  }
  if (request.curriculum !== undefined) {
    for (const key of ["permute", "drop", "repeat"] as const) {
      if (request[key] !== undefined) {
        throw new InvalidInputError(`\`${key}\` varies a stored run: use it with \`fromRun\``, {
          field: key,
        });
      }
    }
  }
  if (request.unknown === "error") {
    // Like the curriculum's own ids: a misspelt id in `drop` or `repeat` would otherwise leave
    // the baseline unchanged without a word.
    refuseUnknown("drop", request.drop ?? [], known);
    refuseUnknown("repeat", Object.keys(request.repeat ?? {}), known);
  }
  let batches = request.curriculum ?? await loadRun(request.fromRun!);
  if (batches.length === 0) {
    throw new InvalidInputError("the curriculum has no steps", { field: "curriculum" });
  }
  if (request.permute !== undefined) {
    batches = shuffled(batches, seededUniform(request.permute));
  }
  if (request.drop !== undefined || request.repeat !== undefined) {
    const dropped = new Set(request.drop ?? []);
    const repeat = request.repeat ?? {};
    batches = batches.map((batch) =>
      batch.flatMap((id) => dropped.has(id) ? [] : Array<string>(repeat[id] ?? 1).fill(id))
    );
  }
  if (request.unknown === "error") {
    const unknown = new Set<string>();
    for (const batch of batches) for (const id of batch) if (!known.has(id)) unknown.add(id);
    throwUnknown("curriculum", unknown);
  }
  return batches;
}

function refuseUnknown(field: string, ids: readonly string[], known: ReadonlySet<string>): void {
  throwUnknown(field, new Set(ids.filter((id) => !known.has(id))));
}

function throwUnknown(field: string, unknown: ReadonlySet<string>): void {
  if (unknown.size === 0) return;
  const listed = listSome(unknown);
  const where = field === "curriculum" ? "the curriculum" : `\`${field}\``;
  throw new InvalidInputError(
    `${where} names ${listed.total} training id(s) the simulator does not know: ` +
      `${listed.ids.slice(0, 5).join(", ")}${listed.total > 5 ? ", …" : ""} ` +
      '(send "unknown": "ignore" to simulate them as having no effect)',
    { field, unknown: listed },
  );
}
