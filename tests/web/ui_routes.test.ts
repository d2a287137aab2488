// The page's static routes: the shell and the bundle are served with their content types, need no
// token even when the API does, and stay out of the OpenAPI document.
import assert from "node:assert/strict";
import { testApp } from "../helpers/app.ts";

Deno.test("ui routes: shell and assets, without the token, not in the OpenAPI document", async (t) => {
  const ctx = await testApp({ env: { SIMFLUENCE_API_TOKEN: "secret" } });
  try {
    await t.step("GET / is the HTML shell that loads /ui/app.js and /ui/app.css", async () => {
      const res = await ctx.app.request("/");
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^text\/html/);
      assert.match(res.headers.get("content-security-policy")!, /default-src 'self'/);
      const html = await res.text();
      assert.match(html, /src="\/ui\/app\.js"/);
      assert.match(html, /href="\/ui\/app\.css"/);
    });
    await t.step("the bundle and its styles", async () => {
      const js = await ctx.app.request("/ui/app.js");
      assert.equal(js.status, 200);
      assert.match(js.headers.get("content-type")!, /^text\/javascript/);
      assert.ok((await js.text()).length > 10_000);
      const css = await ctx.app.request("/ui/app.css");
      assert.equal(css.status, 200);
      assert.match(css.headers.get("content-type")!, /^text\/css/);
      assert.match(await css.text(), /\.uplot/);
    });
    await t.step("an unknown asset is a JSON 404; the API still wants the token", async () => {
      const res = await ctx.app.request("/ui/secrets.txt");
      assert.equal(res.status, 404);
      assert.equal((await res.json()).error.code, "not_found");
      assert.equal((await ctx.app.request("/v1/runs")).status, 401);
    });
    await t.step("the OpenAPI document lists no page routes", async () => {
      const doc = await (await ctx.app.request("/openapi.json")).json();
      const paths = Object.keys(doc.paths);
      assert.ok(paths.length > 10);
      assert.ok(!paths.includes("/") && !paths.some((p) => p.startsWith("/ui")), paths.join());
    });
  } finally {
    await ctx.close();
  }
});
