// The page's number format for layer and token scores: fixed notation where it reads well,
// engineering notation (exponent a multiple of 3) elsewhere, never JavaScript's `7.34e+1`.
import assert from "node:assert/strict";
import fc from "fast-check";
import { engineering } from "../../web/src/numbers.ts";

Deno.test("engineering: fixed notation from 0.01 to 9999, 3 significant digits", () => {
  assert.equal(engineering(73.4), "73.4");
  assert.equal(engineering(-0.5123), "-0.512");
  assert.equal(engineering(0.01), "0.0100");
  assert.equal(engineering(1234.5), "1235");
  assert.equal(engineering(0), "0");
  assert.equal(engineering(null), "–");
  assert.equal(engineering(Number.NaN), "–");
});

Deno.test("engineering: powers of 1000 outside that range", () => {
  assert.equal(engineering(1.234e-5), "12.3×10⁻⁶");
  assert.equal(engineering(-0.004), "-4.00×10⁻³");
  assert.equal(engineering(123456), "123×10³");
  assert.equal(engineering(9.9996e-4), "1.00×10⁻³");
  assert.equal(engineering(7.34e-10), "734×10⁻¹²");
});

Deno.test("engineering: reads back within 0.5 % and never prints e notation", () => {
  fc.assert(fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (x) => {
    const text = engineering(x);
    assert.doesNotMatch(text, /e[+-]?\d/i);
    const match = text.match(/^(-?[\d.]+)(?:×10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?$/);
    assert.ok(match, text);
    const digits: Record<string, string> = {
      "⁻": "-",
      "⁰": "0",
      "¹": "1",
      "²": "2",
      "³": "3",
      "⁴": "4",
      "⁵": "5",
      "⁶": "6",
      "⁷": "7",
      "⁸": "8",
      "⁹": "9",
    };
    const exponent = match[2] ? Number([...match[2]].map((c) => digits[c]).join("")) : 0;
    if (match[2]) assert.equal(Math.abs(exponent % 3), 0, text);
    const back = Number(`${match[1]}e${exponent}`);
    if (x === 0 || Object.is(x, -0)) assert.equal(back, 0);
    else assert.ok(Math.abs(back - x) <= 0.005 * Math.abs(x), `${x} → ${text}`);
  }));
});
