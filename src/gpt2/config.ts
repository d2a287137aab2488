// GPT-2 model configuration, in Hugging Face config.json field names. Unknown fields (dropout
// rates, token ids, task heads) are accepted and ignored; fields that would change the
// architecture away from what this implementation computes are rejected with a clear message.
import { z } from "zod";
import { DomainError } from "../errors.ts";

const positiveInt = z.number().int().positive();
const upTo = (max: number) => positiveInt.max(max);

/**
 * The largest model this service creates or loads: GPT-2 XL (1.56e9 parameters) fits. Every
 * parameter costs host memory while initialising, loading or saving, so a config past this is a
 * client's mistake to refuse, not an allocation to attempt.
 */
export const MAX_PARAMETERS = 2e9;

/** Parameters of a GPT-2 with these sizes (the tied head counts once). */
export function parameterCount(
  c: {
    vocab_size: number;
    n_positions: number;
    n_embd: number;
    n_layer: number;
    n_inner?: number | null;
  },
): number {
  const d = c.n_embd;
  const f = c.n_inner ?? 4 * d;
  const perLayer = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * f + f) + (f * d + d);
  return c.vocab_size * d + c.n_positions * d + c.n_layer * perLayer + 2 * d;
}

export const gpt2ConfigSchema = z.looseObject({
  model_type: z.literal("gpt2").optional(),
  vocab_size: upTo(1 << 20),
  n_positions: upTo(1 << 16),
  n_embd: upTo(1 << 14),
  n_layer: upTo(1024),
  n_head: upTo(1024),
  /** MLP width; null or absent means 4·n_embd. */
  n_inner: upTo(1 << 16).nullable().optional(),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  initializer_range: z.number().positive().default(0.02),
  activation_function: z.enum(["gelu_new", "gelu_pytorch_tanh"], {
    message: "only the tanh-form GELU (gelu_new / gelu_pytorch_tanh) is implemented",
  }).default("gelu_new"),
  scale_attn_weights: z.literal(true, {
    message: "scale_attn_weights must be true (scores are scaled by 1/sqrt(head size))",
  }).default(true),
  scale_attn_by_inverse_layer_idx: z.literal(false, {
    message: "scale_attn_by_inverse_layer_idx is not implemented",
  }).default(false),
  tie_word_embeddings: z.literal(true, {
    message: "the LM head is always tied to the token embedding",
  }).default(true),
  add_cross_attention: z.literal(false, {
    message: "cross-attention is not implemented",
  }).default(false),
}).superRefine((c, ctx) => {
  const parameters = parameterCount(c);
  if (parameters > MAX_PARAMETERS) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: `the model would have ${parameters.toExponential(3)} parameters, more than the ` +
        `${MAX_PARAMETERS.toExponential(0)} this service accepts`,
    });
  }
  if (c.n_embd % c.n_head !== 0) {
    ctx.addIssue({
      code: "custom",
      path: ["n_head"],
      message: `n_embd (${c.n_embd}) must be divisible by n_head (${c.n_head})`,
    });
  }
});

export type Gpt2ConfigInput = z.input<typeof gpt2ConfigSchema>;
export type Gpt2Config = z.output<typeof gpt2ConfigSchema>;

/** A config key at fault: its dotted path inside the config ("" for the config itself). */
export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends DomainError {
  override name = "ConfigError";
  declare readonly details: { field: string; issues: ConfigIssue[] };
  /** `field` is where the config was sent (`config`, `config.json`); issues' paths go under it. */
  constructor(message: string, issues: ConfigIssue[], field = "config") {
    const first = issues[0]?.path;
    super("invalid", "invalid_model_config", message, {
      field: first ? `${field}.${first}` : field,
      issues,
    });
  }
}

/**
 * Parses and validates a config.json object; throws ConfigError listing every problem, with
 * `details.field` naming the first under `field` (where the config was sent).
 */
export function parseGpt2Config(input: unknown, field = "config"): Gpt2Config {
  const result = gpt2ConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({
      path: i.path.join("."),
      message: i.message.replace(/^Invalid input: /, ""),
    }));
    const named = issues.map((i) => `${i.path ? `${field}.${i.path}` : field}: ${i.message}`);
    throw new ConfigError(`invalid GPT-2 config: ${named.join("; ")}`, issues, field);
  }
  return result.data;
}

/** Derived sizes used throughout the model code. */
export interface Dims {
  V: number;
  P: number;
  d: number;
  L: number;
  H: number;
  /** Head size d / H. */
  hs: number;
  /** MLP width. */
  f: number;
  eps: number;
}

export function dimsOf(c: Gpt2Config): Dims {
  return {
    V: c.vocab_size,
    P: c.n_positions,
    d: c.n_embd,
    L: c.n_layer,
    H: c.n_head,
    hs: c.n_embd / c.n_head,
    f: c.n_inner ?? 4 * c.n_embd,
    eps: c.layer_norm_epsilon,
  };
}

/** The config.json we write next to saved weights. */
export function toHfConfig(c: Gpt2Config): Record<string, unknown> {
  return {
    ...c,
    model_type: "gpt2",
    architectures: ["GPT2LMHeadModel"],
    n_ctx: c.n_positions,
  };
}
