import assert from "node:assert/strict";
import fc from "fast-check";
import { toApiError } from "../../src/http/api_error.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  type SafetensorsError,
  type SafetensorsProblem,
  toFloat32,
} from "../../src/store/safetensors.ts";

/** Builds a file from a raw header object and data bytes, bypassing the encoder's checks. */
function rawFile(
  header: unknown,
  data: Uint8Array = new Uint8Array(),
  headerText?: string,
): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function assertProblem(bytes: Uint8Array, problem: SafetensorsProblem, tensor?: string) {
  assert.throws(() => decodeSafetensors(bytes), (e: unknown) => {
    const error = e as SafetensorsError;
    assert.equal(error.name, "SafetensorsError");
    assert.equal(error.problem, problem, error.message);
    assert.equal(toApiError(error)?.status, 400);
    assert.equal(error.code, "invalid_safetensors");
    if (tensor !== undefined) assert.equal(error.details.tensor, tensor);
    return true;
  });
}

Deno.test("safetensors round trip", async (t) => {
  await t.step("f32 tensors, odd shapes, empty tensor and metadata", () => {
    const a = Float32Array.from({ length: 3 * 5 }, (_, i) => i * 0.5 - 3);
    const b = new Float32Array([Math.PI]);
    const empty = new Float32Array(0);
    const bytes = encodeSafetensors(
      {
        a: { shape: [3, 5], data: a },
        b: { shape: [], data: b },
        empty: { shape: [0, 7], data: empty },
      },
      { format: "pt", note: "x" },
    );
    // Header padded so the data starts 8-byte aligned.
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const decoded = decodeSafetensors(bytes);
    assert.deepEqual(decoded.metadata, { format: "pt", note: "x" });
    assert.deepEqual([...decoded.tensors.keys()], ["a", "b", "empty"]);
    assert.deepEqual(decoded.tensors.get("a")!.shape, [3, 5]);
    assert.deepEqual(toFloat32(decoded.tensors.get("a")!), a);
    assert.deepEqual(toFloat32(decoded.tensors.get("b")!), b);
    assert.equal(toFloat32(decoded.tensors.get("empty")!).length, 0);
  });

  await t.step("reads F16, BF16 and F64", () => {
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00, 0x0000, 0x8000]);
    const expectedF16 = [1, -2, 0.333251953125, 2 ** -24, Infinity, 0, -0];
    const bf16Values = new Float32Array([1.5, -256, 3.140625]); // exactly representable in bf16
    const bf16 = Uint16Array.from(new Uint32Array(bf16Values.buffer), (bits) => bits >>> 16);
    const f64 = new Float64Array([0.1, -1e10]);
    const bytes = encodeSafetensors({
      h: { dtype: "F16", shape: [7], data: new Uint8Array(f16.buffer) },
      bf: { dtype: "BF16", shape: [3], data: new Uint8Array(bf16.buffer) },
      d: { dtype: "F64", shape: [2], data: new Uint8Array(f64.buffer) },
    });
    const decoded = decodeSafetensors(bytes);
    assert.deepEqual([...toFloat32(decoded.tensors.get("h")!)], expectedF16);
    assert.deepEqual(toFloat32(decoded.tensors.get("bf")!), bf16Values);
    assert.deepEqual(toFloat32(decoded.tensors.get("d")!), Float32Array.from(f64));
    const f16NaN = encodeSafetensors({
      h: { dtype: "F16", shape: [1], data: new Uint8Array(new Uint16Array([0x7e00]).buffer) },
    });
    assert.ok(Number.isNaN(toFloat32(decodeSafetensors(f16NaN).tensors.get("h")!)[0]));
  });

  await t.step("data at an unaligned offset still decodes", () => {
    const u8 = new Uint8Array([1, 2, 3]);
    const f = new Float32Array([1.25, -7]);
    // The reference writer does not always align: build a file whose F32 data starts at byte 3.
    const data = new Uint8Array(3 + 8);
    data.set(u8);
    data.set(new Uint8Array(f.buffer), 3);
    const bytes = rawFile(
      {
        u: { dtype: "U8", shape: [3], data_offsets: [0, 3] },
        f: { dtype: "F32", shape: [2], data_offsets: [3, 11] },
      },
      data,
      JSON.stringify({
        u: { dtype: "U8", shape: [3], data_offsets: [0, 3] },
        f: { dtype: "F32", shape: [2], data_offsets: [3, 11] },
      }) + " ",
    );
    assert.deepEqual(toFloat32(decodeSafetensors(bytes).tensors.get("f")!), f);
  });

  await t.step("property: any f32 tensors survive a round trip bit for bit", () => {
    const tensor = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 7 })).chain(
      ([r, c]) =>
        fc.float32Array({ minLength: r * c, maxLength: r * c }).map((data) => ({
          shape: [r, c],
          data,
        })),
    );
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== "__metadata__"),
          tensor,
          { maxKeys: 4 },
        ),
        (tensors) => {
          const decoded = decodeSafetensors(encodeSafetensors(tensors));
          assert.deepEqual(new Set(decoded.tensors.keys()), new Set(Object.keys(tensors)));
          for (const [name, t] of Object.entries(tensors)) {
            const got = decoded.tensors.get(name)!;
            assert.deepEqual(got.shape, t.shape);
            // Compare bits: NaN payloads and -0 must survive.
            assert.deepEqual(
              got.data,
              new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
            );
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

Deno.test("safetensors rejects malformed files with typed errors", async (t) => {
  const good = { x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
  const eight = new Uint8Array(8);

  await t.step("shorter than the length prefix", () => {
    assertProblem(new Uint8Array(5), "truncated");
  });
  await t.step("header length beyond the file", () => {
    const bytes = rawFile(good, eight);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length), true);
    assertProblem(bytes, "header_length");
  });
  await t.step("header length beyond the cap, even a huge u64", () => {
    const bytes = rawFile(good, eight);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    assertProblem(bytes, "header_length");
    new DataView(bytes.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    assertProblem(bytes, "header_length");
  });
  await t.step("header not JSON, not UTF-8, or not an object", () => {
    assertProblem(rawFile(null, eight, "{not json"), "header_json");
    const bad = rawFile(null, eight, "{}");
    bad[9] = 0xff;
    assertProblem(bad, "header_json");
    assertProblem(rawFile([1, 2]), "header_json");
    assertProblem(rawFile(null, new Uint8Array(), "null"), "header_json");
  });
  await t.step("metadata that is not a map of strings", () => {
    assertProblem(rawFile({ __metadata__: { a: 1 } }), "metadata");
    assertProblem(rawFile({ __metadata__: "x" }), "metadata");
  });
  await t.step("unknown dtype", () => {
    assertProblem(
      rawFile({ x: { dtype: "F8_E9", shape: [2], data_offsets: [0, 8] } }, eight),
      "dtype",
      "x",
    );
  });
  await t.step("bad entry fields", () => {
    assertProblem(rawFile({ x: 5 }), "entry", "x");
    assertProblem(
      rawFile({ x: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, eight),
      "entry",
      "x",
    );
    assertProblem(
      rawFile({ x: { dtype: "F32", shape: [2.5], data_offsets: [0, 8] } }, eight),
      "entry",
      "x",
    );
    assertProblem(
      rawFile({ x: { dtype: "F32", shape: [2], data_offsets: [0] } }, eight),
      "entry",
      "x",
    );
    assertProblem(rawFile({ x: { dtype: "F32", shape: [2] } }, eight), "entry", "x");
  });
  await t.step("offsets out of range, reversed, or not matching the shape", () => {
    assertProblem(
      rawFile({ x: { dtype: "F32", shape: [2], data_offsets: [0, 16] } }, eight),
      "offsets",
      "x",
    );
    assertProblem(
      rawFile({ x: { dtype: "F32", shape: [0], data_offsets: [8, 0] } }, eight),
      "offsets",
      "x",
    );
    assertProblem(
      rawFile({ x: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, eight),
      "offsets",
      "x",
    );
  });
  await t.step("overlapping tensors, gaps and trailing bytes", () => {
    assertProblem(
      rawFile({
        x: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        y: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
      }, eight),
      "offsets",
    );
    assertProblem(
      rawFile({ x: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, eight),
      "offsets",
      "x",
    );
    assertProblem(
      rawFile({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, eight),
      "offsets",
    );
  });
  await t.step("integer tensors cannot be read as floats", () => {
    const bytes = encodeSafetensors({ i: { dtype: "I32", shape: [1], data: new Uint8Array(4) } });
    assert.throws(
      () => toFloat32(decodeSafetensors(bytes).tensors.get("i")!),
      /not a floating-point/,
    );
  });
  await t.step("the encoder refuses inconsistent input", () => {
    assert.throws(
      () => encodeSafetensors({ x: { shape: [3], data: new Float32Array(2) } }),
      RangeError,
    );
    assert.throws(
      () => encodeSafetensors({ __metadata__: { shape: [0], data: new Float32Array(0) } }),
      RangeError,
    );
  });
});
