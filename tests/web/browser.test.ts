// The web page in a real browser: Debian's Chromium, headless, driven by puppeteer-core against
// the real service (a child process on a free port, temporary store, API token set). The flow:
// token prompt, upload runs, plot 200 × 400 curves (timed, a legend or a hover naming the curve),
// fit Linear with live progress, evaluation, a streamed counterfactual, models with a recorded
// training run, attribution of a query scored from the page (factors fitted through the API; the
// heat-map's values on demand, layer values in engineering notation), TracIn and gradient
// projection started from the page, MAGIC over the recorded run (AdamW with epsRoot: phases, step
// of T, the score set's top examples; an uploaded run's 409 shown in the form), mask runs over it
// from the models form, a curriculum optimised from the Optimise tab (the search's objective drawn
// live, verified by two random runs: predicted and observed curves, the gain with its interval,
// downloads), the methods of a study compared (held-out metrics and LDS),
// and the jobs list with a cancel. Without a token configured, no "Forget token".
// Screenshots of each view land in a temporary folder (printed); no console errors allowed.
import assert from "node:assert/strict";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { startService } from "./service_process.ts";
import { linearStudy, toGptfluence, toNdjson, wideRun } from "./sample_runs.ts";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "browser-test-token";
const chromiumPresent = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!chromiumPresent) {
  console.log(
    `\n${"!".repeat(72)}\nSKIPPED browser tests: install chromium (${CHROMIUM} missing)\n${
      "!".repeat(72)
    }\n`,
  );
}

// Under CI a missing Chromium fails instead of skipping.
Deno.test({
  name: "browser: Chromium is installed under CI",
  ignore: chromiumPresent || Deno.env.get("CI") !== "true",
  fn: () => assert.fail(`CI=true but ${CHROMIUM} is missing: apt-get install -y chromium`),
});

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Chrome reports each non-2xx response as a console error; these are the ones the test causes. */
const EXPECTED_HTTP_ERRORS =
  /Failed to load resource: the server responded with a status of (400|401|409)/;

/**
 * Downloads go to `downloads` when given: Chromium's default (a folder of the user's) left the
 * next browser unable to load a page.
 */
async function launch(profile: string, downloads?: string): Promise<Browser> {
  return await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, `--user-data-dir=${profile}`],
    ...(downloads ? { downloadBehavior: { policy: "allow", downloadPath: downloads } } : {}),
  });
}

// In-page code is written as strings: this test's program is type-checked without DOM types.
function evaluate<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

async function waitFor(page: Page, expression: string, timeout = 30_000) {
  await page.waitForFunction(expression, { timeout });
}

async function waitText(page: Page, selector: string, pattern: RegExp, timeout = 30_000) {
  await waitFor(
    page,
    `[...document.querySelectorAll(${JSON.stringify(selector)})].some((n) => ` +
      `new RegExp(${JSON.stringify(pattern.source)}).test(n.textContent ?? ""))`,
    timeout,
  );
}

/** Opens a tab and waits until it has loaded what it shows. */
async function openTab(page: Page, id: string) {
  await page.click(`#tab-${id}`);
  await page.waitForSelector(`#panel[data-ready=${id}]`, { timeout: 30_000 });
}

/** `element.dataset` of the first match. */
function dataset(page: Page, selector: string): Promise<Record<string, string>> {
  return evaluate(page, `({...document.querySelector(${JSON.stringify(selector)}).dataset})`);
}

function setValue(page: Page, selector: string, value: string): Promise<unknown> {
  return evaluate(
    page,
    `document.querySelector(${JSON.stringify(selector)}).value = ${JSON.stringify(value)}`,
  );
}

async function choose(page: Page, selector: string, ...values: string[]) {
  await page.waitForSelector(`${selector} option`);
  await page.select(selector, ...values);
}

Deno.test({
  name: "browser: every view works against a fresh store, with the API token set",
  ignore: !chromiumPresent,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const work = await Deno.makeTempDir({ prefix: "simfluence-browser-" });
    const shots = join(work, "screenshots");
    await Deno.mkdir(shots);
    const service = await startService({ SIMFLUENCE_API_TOKEN: TOKEN });
    const downloads = join(work, "downloads");
    await Deno.mkdir(downloads);
    const browser = await launch(join(work, "profile"), downloads);
    const consoleErrors: string[] = [];
    const expectedErrors: string[] = [];
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1100, height: 820 });
      page.on("console", (m) => {
        if (m.type() !== "error") return;
        (EXPECTED_HTTP_ERRORS.test(m.text()) ? expectedErrors : consoleErrors).push(m.text());
      });
      page.on("pageerror", (e) => consoleErrors.push(`page error: ${e}`));
      const shot = (name: string) =>
        page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
      /** A call to the service with the token, as a script would make it. */
      const call = (path: string, body?: unknown) =>
        fetch(`${service.url}${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }).then(async (r) => ({ status: r.status, body: await r.json() }));
      /** Waits for a job through its event stream (the stream ends with its final event). */
      const finished = async (job: string) => {
        const events = await fetch(`${service.url}/v1/jobs/${job}/events`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        }).then((r) => r.text());
        assert.match(events, /event: done/, events.slice(-600));
      };

      // Files to upload: a study of 6 small runs (one as NDJSON), a wide run, and a broken one.
      const files: string[] = [];
      const study = linearStudy("demo", { runs: 6, steps: 20, train: 8, tests: 4, seed: 11 });
      for (const [i, run] of study.entries()) {
        const path = join(work, i === 5 ? `${run.name}.ndjson` : `${run.name}.json`);
        await Deno.writeTextFile(path, i === 5 ? toNdjson(run) : JSON.stringify(run));
        files.push(path);
      }
      const wide = join(work, "wide.json");
      await Deno.writeTextFile(wide, JSON.stringify(wideRun("wide", 200, 400, 5)));
      const broken = join(work, "broken.json");
      const bad = { ...study[0], name: "broken", losses: study[0].losses.slice(0, 10) };
      await Deno.writeTextFile(broken, JSON.stringify(bad));

      await t.step(
        "the page asks for the token, refuses a wrong one, accepts the right one",
        async () => {
          await page.goto(service.url, { waitUntil: "load" });
          await page.waitForSelector('form[aria-label="API token"] input[name=token]');
          await page.type("input[name=token]", "wrong-token");
          await page.click("button[name=sign-in]");
          await waitText(page, ".token-form .error", /refused/);
          await shot("0-token");
          await setValue(page, "input[name=token]", "");
          await page.type("input[name=token]", TOKEN);
          await page.click("button[name=sign-in]");
          await page.waitForSelector("nav[role=tablist]");
          const stored = await evaluate(page, `sessionStorage.getItem("simfluence-token")`);
          assert.equal(stored, TOKEN);
          // A token is in use, so there is one to forget.
          await waitText(page, ".top-bar button.sign-out", /Forget token/);
          // The tabs work from the keyboard: arrow keys move to the next tab and open it.
          await page.focus("#tab-studies");
          await page.keyboard.press("ArrowRight");
          await page.waitForSelector("#panel[data-ready=fit]");
          await page.keyboard.press("ArrowLeft");
          await page.waitForSelector("#panel[data-ready=studies]");
        },
      );

      await t.step(
        "1. upload runs; a broken file shows the server's error naming the field",
        async () => {
          const input = await page.waitForSelector("input[name=run-files]");
          await input!.uploadFile(...files, wide, broken);
          await waitFor(
            page,
            `document.querySelectorAll(".upload-line[data-result]").length === 8`,
            60_000,
          );
          const results = await evaluate<{ result: string; text: string }[]>(
            page,
            `[...document.querySelectorAll(".upload-line")].map((l) => ` +
              `({ result: l.dataset.result, text: l.textContent }))`,
          );
          const failed = results.filter((r) => r.result === "error");
          assert.equal(failed.length, 1, JSON.stringify(results));
          assert.match(failed[0].text!, /broken\.json/);
          assert.match(failed[0].text!, /losses/);
          await waitText(page, ".study-list li", /demo\s+6 runs, 4 test examples, 0 simulators/);
          // GPTfluence's two files go together, with a study and a run name from the form.
          const pair = toGptfluence(study[0]);
          const pairDir = join(work, "gptfluence");
          await Deno.mkdir(pairDir);
          await Deno.writeTextFile(join(pairDir, "train_samples_id.json"), pair.train);
          await Deno.writeTextFile(join(pairDir, "all_loss_trajectory.out"), pair.losses);
          await page.type("input[name=import-study]", "imported");
          await page.type("input[name=import-name]", "gpt-run");
          const again = await page.waitForSelector("input[name=run-files]");
          await again!.uploadFile(
            join(pairDir, "train_samples_id.json"),
            join(pairDir, "all_loss_trajectory.out"),
          );
          await waitText(page, ".upload-line", /stored run gpt-run in imported \(20 steps\)/);
          await waitText(page, ".study-list li", /imported\s+1 run\b/);
        },
      );

      await t.step(
        "observed curves: 200 test examples × 401 points draw in under a second",
        async () => {
          await page.click('button[data-study="wide"]');
          await page.waitForSelector("button[name=all-tests]");
          await page.click("button[name=all-tests]");
          await page.click("button[name=plot]");
          await page.waitForSelector("#view-studies .chart[data-drawn=true]", { timeout: 30_000 });
          const chart = await dataset(page, "#view-studies .chart");
          const ms = Number(chart.drawMs);
          const series = Number(chart.series);
          assert.equal(series, 200);
          console.log(`page: 200 curves × 401 points drawn in ${ms.toFixed(1)} ms`);
          assert.ok(ms < 1000, `drawing took ${ms} ms`);
          // Too many curves for a legend: hovering names the curve nearest the cursor.
          const over = await page.waitForSelector("#view-studies .chart .u-over");
          const box = (await over!.boundingBox())!;
          let hovered: string | undefined;
          for (let i = 1; i < 20 && !hovered; i++) {
            await page.mouse.move(box.x + box.width * i / 20, box.y + box.height * (i % 10) / 10);
            hovered = (await dataset(page, "#view-studies .chart")).hover;
          }
          assert.ok(hovered, "no curve named on hover");
          const hoverText = await evaluate<string>(
            page,
            `document.querySelector("#view-studies .chart .chart-hover").textContent`,
          );
          assert.ok(hoverText.startsWith(hovered!), hoverText);
          assert.match(hoverText, /at step \d+/);
          // The default plot of a small study (3 runs × 4 test examples) has a legend naming each
          // curve.
          await page.click('button[data-study="demo"]');
          await waitFor(
            page,
            `document.querySelectorAll("select[name=plot-runs] option").length === 6`,
          );
          await page.click("button[name=plot]");
          await page.waitForSelector('#view-studies .chart[data-drawn=true][data-series="12"]');
          const legend = await evaluate<string[]>(
            page,
            `[...document.querySelectorAll("#view-studies .chart .u-legend .u-series .u-label")]` +
              `.map((n) => n.textContent)`,
          );
          assert.equal(legend.length, 13, "the x series and 12 curves");
          const curves = legend.slice(1);
          assert.ok(curves.every((l) => /^run-\d · q\d$/.test(l)), JSON.stringify(legend));
          assert.equal(new Set(curves).size, 12, JSON.stringify(legend));
          await shot("1-studies");
        },
      );

      await t.step(
        "2. fit a Linear simulator: progress reaches done; 3. the evaluation",
        async () => {
          await openTab(page, "fit");
          await page.waitForSelector("select[name=fit-study] option");
          if (
            await evaluate(page, `document.querySelector("select[name=fit-study]").value`) !==
              "demo"
          ) {
            await page.select("select[name=fit-study]", "demo");
          }
          await waitFor(
            page,
            `document.querySelectorAll("form.fit-form[data-study=demo] ` +
              `select[name=train-runs] option:checked").length === 4`,
          );
          // A request the server refuses shows its error where it happened.
          const chosen = await evaluate<string[]>(
            page,
            `[...document.querySelectorAll("select[name=train-runs] option:checked")].map((o) => o.value)`,
          );
          await page.select("select[name=train-runs]");
          await page.click("button[name=fit]");
          await waitText(page, "#view-fit .error", /400 .*trainRuns/);
          await page.select("select[name=train-runs]", ...chosen);
          await page.click("button[name=fit]");
          await page.waitForSelector("#view-fit .job[data-status]", { timeout: 120_000 });
          const job = await evaluate<{ status: string; value: number; text: string }>(
            page,
            `(() => { const n = document.querySelector("#view-fit .job"); return ` +
              `{ status: n.dataset.status, value: n.querySelector("progress").value, text: n.textContent }; })()`,
          );
          assert.equal(job.status, "succeeded", job.text ?? "");
          assert.equal(job.value, 1);
          await page.waitForSelector("table.evaluation", { timeout: 30_000 });
          const rows = await evaluate<string[][]>(
            page,
            `[...document.querySelectorAll("table.evaluation tbody tr")].map((tr) => ` +
              `[...tr.querySelectorAll("td")].map((td) => td.textContent))`,
          );
          assert.equal(rows.length, 2, JSON.stringify(rows));
          assert.equal(rows[1][0], "pooled");
          assert.ok(Number(rows[1][1]) >= 0 && Number(rows[1][1]) < 0.05, JSON.stringify(rows));
          await page.waitForSelector(".compare .chart .uplot", { timeout: 30_000 });
          await shot("2-fit");
        },
      );

      await t.step("4. a counterfactual streams the expected number of points", async () => {
        await openTab(page, "counterfactuals");
        await page.waitForSelector("#view-counterfactuals[data-ready=true]", { timeout: 30_000 });
        await page.waitForSelector(".influence button[data-train]", { timeout: 30_000 });
        const dropped = (await dataset(page, ".influence .helpful button[data-train]")).train;
        await page.click(".influence .helpful button[data-train]");
        assert.equal(
          await evaluate(page, `document.querySelector("input[name=drop]").value`),
          dropped,
        );
        await page.type("input[name=permute]", "7");
        await page.click("button[name=simulate]");
        await page.waitForSelector("#view-counterfactuals .chart[data-status=done]", {
          timeout: 30_000,
        });
        const points = Number((await dataset(page, "#view-counterfactuals .chart")).points);
        assert.equal(points, 21, "20 steps and the initial loss");
        // Each chunk of the stream is drawn soon after it arrives (the issue asks ≤ 100 ms).
        const lag = Number((await dataset(page, "#view-counterfactuals .chart")).maxRedrawLagMs);
        console.log(`page: longest wait from a streamed chunk to its redraw: ${lag} ms`);
        assert.ok(lag < 100, `a streamed chunk waited ${lag} ms to be drawn`);
        // A second counterfactual is kept beside the first.
        await setValue(page, "input[name=drop]", "");
        await page.type("input[name=repeat]", `${dropped}:3`);
        await page.click("button[name=simulate]");
        await waitFor(
          page,
          `(() => { const c = document.querySelector("#view-counterfactuals .chart"); ` +
            `return c.dataset.status === "done" && c.dataset.series === "3"; })()`,
        );
        await shot("3-counterfactuals");
      });

      await t.step("models: list, and a recorded training run with live progress", async () => {
        const res = await fetch(`${service.url}/v1/models`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({
            name: "tiny",
            seed: 1,
            config: { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 },
          }),
        });
        assert.equal(res.status, 201, await res.text());
        await openTab(page, "models");
        await waitText(page, ".models-table", /tiny/);
        await choose(page, "select[name=train-dataset]", "builtin:skills");
        // Checkpoints every 5 steps: TracIn reads them later.
        await page.type("input[name=checkpoint-every]", "5");
        // AdamW with epsRoot (MAGIC differentiates this run later).
        await page.type("input[name=eps-root]", "1e-8");
        await page.click("button[name=record]");
        await page.waitForSelector("#view-models .job[data-status]", { timeout: 120_000 });
        const job = await evaluate<{ status: string; loss: string; text: string }>(
          page,
          `(() => { const n = document.querySelector("#view-models .job"); ` +
            `return { status: n.dataset.status, loss: n.dataset.lastLoss, text: n.textContent }; })()`,
        );
        assert.equal(job.status, "succeeded", job.text ?? "");
        assert.ok(Number(job.loss) > 0, job.text ?? "");
        await shot("4-models");
        // A long recording, cancelled from the page: the job view says so.
        await setValue(page, "input[name=checkpoint-every]", "");
        await setValue(page, "input[name=steps]", "5000");
        await page.click("button[name=record]");
        await waitFor(
          page,
          `document.querySelector("#view-models .job progress")?.value > 0`,
          60_000,
        );
        await page.click("#view-models .job button[name=cancel]");
        await page.waitForSelector("#view-models .job[data-status=cancelled]", { timeout: 60_000 });
        await waitText(page, "#view-models .job .error", /job cancelled/);
      });

      await t.step(
        "5. attribution: score a query, top examples, token heat-map, layer bars",
        async () => {
          const api = (path: string, body: unknown) =>
            fetch(`${service.url}${path}`, {
              method: "POST",
              headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
              body: JSON.stringify(body),
            }).then(async (r) => ({ status: r.status, body: await r.json() }));
          const models = await fetch(`${service.url}/v1/models`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          }).then((r) => r.json());
          const examples = await fetch(`${service.url}/v1/datasets/builtin:skills?limit=12`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          }).then((r) => r.json());
          const factors = await api("/v1/influence/factors", {
            model: models.models[0].id,
            dataset: "builtin:skills",
            ids: examples.examples.map((e: { id: string }) => e.id),
          });
          assert.equal(factors.status, 202, JSON.stringify(factors.body));
          // The factors' job is quick on a 1-layer model: wait for it, then open the view.
          const events = await fetch(`${service.url}/v1/jobs/${factors.body.job}/events`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          }).then((r) => r.text());
          assert.match(events, /event: done/);
          await openTab(page, "attribution");
          await waitText(page, "#view-attribution", /No pairwise score sets yet/);
          await page.waitForSelector("select[name=new-factors] option");
          await page.type("textarea[name=new-prompt]", "rev 123=");
          await page.type("textarea[name=new-completion]", "321");
          await page.click("button[name=score]");
          // Found and clicked in one go: the list may be redrawn while the lists reload.
          await waitFor(
            page,
            `(() => { const b = document.querySelector("#view-attribution .top .ranked button[data-train]"); ` +
              `b?.click(); return !!b; })()`,
            60_000,
          );
          await page.waitForSelector("#view-attribution .bars .bar-row", { timeout: 30_000 });
          const detail = await evaluate<{ tokens: number; bars: number }>(
            page,
            `({ tokens: document.querySelectorAll("#view-attribution .heatmap .tok").length, ` +
              `bars: document.querySelectorAll("#view-attribution .bars .bar-row").length })`,
          );
          assert.ok(detail.tokens > 3, JSON.stringify(detail));
          assert.equal(detail.bars, 2, "one bar per tracked module: c_fc and c_proj of one layer");
          // Layer values in fixed or engineering notation, never JavaScript's 7.34e+1.
          const barValues = await evaluate<string[]>(
            page,
            `[...document.querySelectorAll("#view-attribution .bar-value")].map((n) => n.textContent)`,
          );
          for (const v of barValues) {
            assert.match(v, /^-?\d+(\.\d+)?(×10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?$/, `layer value ${v}`);
          }
          // The heat-map is readable at its default size, and shows every value on demand.
          const heat = await evaluate<{ font: number; shownValues: number }>(
            page,
            `({ font: parseFloat(getComputedStyle(document.querySelector("#view-attribution ` +
              `.heatmap .tok")).fontSize), shownValues: [...document.querySelectorAll(` +
              `"#view-attribution .tok-value")].filter((n) => n.offsetParent !== null).length })`,
          );
          assert.ok(heat.font >= 16, `token font ${heat.font}px`);
          assert.equal(heat.shownValues, 0, "values wait until asked for");
          await page.click("input[name=token-values]");
          const values = await evaluate<string[]>(
            page,
            `[...document.querySelectorAll("#view-attribution .tok-value")]` +
              `.filter((n) => n.offsetParent !== null).map((n) => n.textContent)`,
          );
          assert.equal(values.length, detail.tokens);
          for (const v of values) assert.doesNotMatch(v, /e[+-]/, `token value ${v}`);
          await shot("5-attribution");
        },
      );

      await t.step("attribution: TracIn and gradient projection start from the page", async () => {
        // TracIn over the recorded run's checkpoints (every 5 steps), one inline query.
        await openTab(page, "attribution");
        await page.waitForSelector("select[name=tracin-run] option");
        await page.type("textarea[name=tracin-prompt]", "rev 12=");
        await page.type("textarea[name=tracin-completion]", "21");
        await page.select("select[name=tracin-parameters]", "linear");
        await page.click("button[name=start-tracin]");
        await page.waitForSelector("#view-attribution .start-jobs .job[data-status]", {
          timeout: 120_000,
        });
        assert.equal(
          (await dataset(page, "#view-attribution .start-jobs .job")).status,
          "succeeded",
        );
        // The new score set is opened: its method is TracIn and its top examples are listed.
        await waitText(page, "select[name=score-set] option:checked", /tracin/);
        await page.waitForSelector("#view-attribution .top .ranked button[data-train]");
        // Gradient projection of 12 examples, then scores from the stored gradients.
        const examples = await call("/v1/datasets/builtin:skills?limit=12");
        const ids = examples.body.examples.map((e: { id: string }) => e.id).join(",");
        await choose(page, "select[name=projection-dataset]", "builtin:skills");
        await page.type("input[name=projection-ids]", ids);
        await setValue(page, "input[name=projection-dim]", "64");
        await page.click("button[name=start-projection]");
        await page.waitForSelector("select[name=gradients-train] option", { timeout: 120_000 });
        await page.select("select[name=gradients-method]", "dot");
        await page.click("button[name=start-gradient-scores]");
        await page.waitForSelector("#view-attribution .start-jobs .job[data-status]", {
          timeout: 120_000,
        });
        assert.equal(
          (await dataset(page, "#view-attribution .start-jobs .job")).status,
          "succeeded",
        );
        await waitText(page, "select[name=score-set] option:checked", /\b12 queries × 12/);
        await page.waitForSelector("#view-attribution .top .ranked button[data-train]");
        await shot("6-attribution-methods");
      });

      await t.step(
        "attribution: MAGIC over a recorded run from the page; an uploaded run is a 409",
        async () => {
          // The run recorded from the page above (AdamW, 10 steps, 1 layer of width 16).
          const recorded = await call("/v1/runs?study=recorded");
          const base = recorded.body.runs.find((r: { source: string; steps: number }) =>
            r.source === "training" && r.steps === 10
          );
          assert.ok(base, JSON.stringify(recorded.body));
          await openTab(page, "attribution");
          await choose(page, "select[name=magic-study]", "recorded");
          await waitFor(
            page,
            `[...document.querySelectorAll("select[name=magic-run] option")]` +
              `.some((o) => o.value === ${JSON.stringify(base.id)})`,
          );
          await page.select("select[name=magic-run]", base.id);
          // The queries' dataset is the one the run was recorded from; one test example chosen.
          await waitFor(
            page,
            `document.querySelector("select[name=magic-dataset]").value === "builtin:skills"`,
          );
          const chosen = await evaluate<number>(
            page,
            `document.querySelectorAll("select[name=magic-tests] option:checked").length`,
          );
          assert.equal(chosen, 1);
          await page.click("button[name=start-magic]");
          const job = "#view-attribution .magic-job .job";
          await page.waitForSelector(`${job}[data-status]`, { timeout: 300_000 });
          const seen = await evaluate<{ status: string; phases: string; text: string }>(
            page,
            `(() => { const n = document.querySelector(${JSON.stringify(job)}); return ` +
              `{ status: n.dataset.status, phases: n.dataset.phases ?? "", text: n.textContent }; })()`,
          );
          assert.equal(seen.status, "succeeded", seen.text);
          assert.ok(seen.phases.split(",").includes("reverse"), seen.phases);
          assert.match(seen.text, /ETA .*step \d+\/10/, seen.text);
          // The magic score set is opened: its most helpful and harmful training examples.
          await waitText(page, "select[name=score-set] option:checked", /magic · 1 queries/);
          await page.waitForSelector("#view-attribution .top .ranked button[data-train]");
          const top = await evaluate<{ lists: number; entries: number; texts: number }>(
            page,
            `({ lists: document.querySelectorAll("#view-attribution .top .ranked").length, ` +
              `entries: document.querySelectorAll("#view-attribution .top li").length, ` +
              `texts: document.querySelectorAll("#view-attribution .top li .example-text").length })`,
          );
          assert.equal(top.lists, 2, "helpful and harmful");
          assert.ok(top.entries > 0 && top.texts === top.entries, JSON.stringify(top));
          await shot("6b-magic");
          // An uploaded run cannot be replayed: the server's 409 and message show in the form.
          await choose(page, "select[name=magic-study]", "demo");
          await page.click("input[name=magic-uploaded]");
          await waitFor(
            page,
            `/\\((nd)?json\\)$/.test(document.querySelector("select[name=magic-run] option:checked")` +
              `?.textContent ?? "")`,
          );
          await page.select("select[name=magic-query-source]", "text");
          await page.type("textarea[name=magic-text]", "rev 12=21");
          await page.click("button[name=start-magic]");
          await waitText(
            page,
            "#view-attribution .magic-job .error",
            /409 run_not_replayable: .*uploaded/,
          );
        },
      );

      await t.step("models: mask runs over the recorded run, from the form", async () => {
        const recorded = await call("/v1/runs?study=recorded");
        const base = recorded.body.runs.find((r: { source: string; steps: number }) =>
          r.source === "training" && r.steps === 10
        );
        // The base run was recorded with the epsRoot typed in the form.
        const jobs = await call("/v1/jobs?kind=training-runs&limit=100");
        const recording = jobs.body.jobs.find((j: { input: { runNames: string[] } }) =>
          j.input.runNames.includes(base.name)
        );
        assert.equal(recording.input.request.optimizer.epsRoot, 1e-8);
        await openTab(page, "models");
        // The base run and drop fraction show only for the mask curriculum.
        const shown = () =>
          evaluate<boolean>(
            page,
            `document.querySelector("select[name=mask-base-run]").offsetParent !== null`,
          );
        assert.equal(await shown(), false);
        await page.select("select[name=curriculum]", "mask");
        assert.equal(await shown(), true);
        await page.select("select[name=mask-base-run]", base.id);
        await setValue(page, "input[name=drop-fraction]", "0.25");
        await setValue(page, "input[name=runs]", "1");
        await page.click("button[name=record]");
        await page.waitForSelector("#view-models .job[data-status]", { timeout: 120_000 });
        assert.equal((await dataset(page, "#view-models .job")).status, "succeeded");
        const after = await call("/v1/runs?study=recorded");
        const mask = after.body.runs.at(-1);
        assert.notEqual(mask.id, base.id);
        const run = await call(`/v1/runs/${mask.id}?format=json`);
        const dropped = new Set<string>();
        for (const step of run.body.steps) {
          step.weights?.forEach((w: number, k: number) => w === 0 && dropped.add(step.batch[k]));
        }
        assert.equal(dropped.size, Math.round(0.25 * base.distinctTrainExamples));
      });

      await t.step(
        "optimise: the search watched live, verified by training, downloads",
        async () => {
          // A Linear simulator of the recorded study, fitted on its runs (recorded and mask runs).
          const recorded = await call("/v1/runs?study=recorded");
          const fit = await call("/v1/simulators", {
            study: "recorded",
            kind: "linear",
            trainRuns: recorded.body.runs.map((r: { id: string }) => r.id),
          });
          assert.equal(fit.status, 202, JSON.stringify(fit.body));
          await finished(fit.body.job);
          await openTab(page, "optimize");
          await choose(page, "select[name=optimize-study]", "recorded");
          await page.waitForSelector(
            `select[name=optimize-simulator] option[value="${fit.body.simulator.id}"]`,
          );
          await page.click("input[name=optimize-all-tests]");
          // Enough rounds that the search outlasts the start of the job's event stream.
          await setValue(page, "input[name=optimize-rounds]", "500");
          await setValue(page, "input[name=optimize-verify]", "2");
          await page.click("button[name=optimize]");
          await page.waitForSelector("#view-optimize .optimize-result[data-status]", {
            timeout: 300_000,
          });
          const search = await dataset(page, "#view-optimize .optimize-search");
          assert.ok(Number(search.points) > 0, "no search point was drawn live");
          assert.ok(Number(search.stored) >= 4, "one stored trace per restart");
          const id = (await dataset(page, "#view-optimize .optimize-result")).optimization;
          const record = (await call(`/v1/curricula/optimizations/${id}`)).body;
          assert.equal(record.status, "ready", JSON.stringify(record).slice(0, 600));
          assert.equal(record.budget.keep, Math.round(0.5 * record.budget.of));
          assert.equal(record.verification.runs.length, 3);
          // Predicted (optimised, random mean, own) and observed (optimised, random mean) curves;
          // the observed objective the page computed from the run's losses is the service's.
          await page.waitForSelector(
            '#view-optimize .optimize-curves[data-drawn=true][data-series="5"]',
          );
          const curves = await dataset(page, "#view-optimize .optimize-curves");
          const observed = record.verification.runs.find((r: { kind: string }) =>
            r.kind === "optimized"
          ).observed;
          assert.ok(Math.abs(Number(curves.observedFinal) - observed) < 1e-4, curves.observedFinal);
          const cells = (selector: string) =>
            evaluate<string[][]>(
              page,
              `[...document.querySelectorAll(${JSON.stringify(selector)})].map((tr) => ` +
                `[...tr.querySelectorAll("td")].map((td) => td.textContent))`,
            );
          const [gain] = await cells("#view-optimize table.optimize-gain tr[data-row=gain]");
          assert.match(gain[2], /^-?\S+ \[-?\S+, -?\S+\] 95 %$/, JSON.stringify(gain));
          const predicted = record.result.predicted.improvement;
          assert.ok(
            Math.abs(Number(gain[1]) - predicted) <= Math.max(5e-5, 0.01 * Math.abs(predicted)),
            `${gain[1]} vs ${predicted}`,
          );
          assert.equal((await cells("#view-optimize table.optimize-runs tbody tr")).length, 3);
          const [listed] = await cells(`#view-optimize tr[data-optimization="${id}"]`);
          assert.equal(listed[5], gain[2].replace(/ 95 %$/, ""));
          // The downloads are saved as files: the JSON names the optimisation, the zip holds
          // GPTfluence's training file.
          const saved = async (name: string) => {
            const path = join(downloads, name);
            for (let i = 0; i < 100; i++) {
              if (await Deno.stat(path).then(() => true, () => false)) return path;
              await new Promise((r) => setTimeout(r, 100));
            }
            assert.fail(
              `${name} was not downloaded: ${[...Deno.readDirSync(downloads)].map((e) => e.name)}`,
            );
          };
          for (const format of ["json", "gptfluence"]) {
            await page.click(`#view-optimize button[name=download-${format}]`);
            await page.waitForSelector(
              `#view-optimize button[name=download-${format}][data-downloaded]`,
            );
          }
          const json = JSON.parse(
            await Deno.readTextFile(await saved(`curriculum-${id.slice(0, 8)}.json`)),
          );
          assert.equal(json.optimization, id);
          assert.deepEqual(json.kept, record.result.curriculum.kept);
          const zip = await Deno.readFile(await saved(`curriculum-${id.slice(0, 8)}.zip`));
          assert.equal(new TextDecoder().decode(zip.subarray(0, 2)), "PK");
          await shot("6c-optimize");
        },
      );

      await t.step("compare methods: held-out metrics and LDS side by side", async () => {
        // A study of 8 runs; Linear and Additive fitted on the first three, five held out.
        const runs = linearStudy("cmp", { runs: 8, steps: 12, train: 6, tests: 3, seed: 5 });
        const ids: string[] = [];
        for (const run of runs) {
          const stored = await call("/v1/runs", run);
          assert.equal(stored.status, 201, JSON.stringify(stored.body));
          ids.push(stored.body.id);
        }
        for (const kind of ["linear", "additive"]) {
          const fit = await call("/v1/simulators", {
            study: "cmp",
            kind,
            trainRuns: ids.slice(0, 2),
            validationRuns: [ids[2]],
          });
          assert.equal(fit.status, 202, JSON.stringify(fit.body));
          await finished(fit.body.job);
        }
        await openTab(page, "compare");
        await choose(page, "select[name=compare-study]", "cmp");
        await waitFor(
          page,
          `document.querySelectorAll("select[name=compare-runs] option:checked").length === 5`,
        );
        await page.click("button[name=compare]");
        await page.waitForSelector("#view-compare .comparison[data-metrics=true]", {
          timeout: 60_000,
        });
        await page.click("button[name=compute-lds]");
        await page.waitForSelector("#view-compare .comparison[data-lds=true]", {
          timeout: 120_000,
        });
        const rows = await evaluate<string[][]>(
          page,
          `[...document.querySelectorAll("#view-compare table.methods tbody tr")].map((tr) => ` +
            `[...tr.querySelectorAll("td")].map((td) => td.textContent))`,
        );
        assert.equal(rows.length, 2, JSON.stringify(rows));
        assert.deepEqual(rows.map((r) => r[0].split(" ")[0]).sort(), [
          "Simfluence-Additive",
          "Simfluence-Linear",
        ]);
        for (const row of rows) {
          assert.equal(row[1], "3", "fitting and validation runs");
          assert.ok(Number(row[3]) >= 0, `all-steps MSE ${row[3]}`);
          assert.ok(Math.abs(Number(row[6])) <= 1, `final-step Spearman ${row[6]}`);
          assert.match(row[7], /^-?\d\.\d{3} \[-?\d\.\d{2}, -?\d\.\d{2}\]$/, `LDS ${row[7]}`);
          assert.equal(row[8], "5");
        }
        // Linear was fitted on runs that follow a linear simulator: it beats Additive held out.
        const mse = Object.fromEntries(rows.map((r) => [r[0].split(" ")[0], Number(r[3])]));
        assert.ok(mse["Simfluence-Linear"] < mse["Simfluence-Additive"], JSON.stringify(rows));
        // The LDS results are kept: opened afresh, the tab shows them again before any held-out
        // metric is recomputed.
        await openTab(page, "studies");
        await openTab(page, "compare");
        const kept = `[...document.querySelectorAll("#view-compare table.methods tbody tr")]` +
          `.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))`;
        await waitFor(
          page,
          `(() => { const rows = ${kept}; return rows.length === 2 && ` +
            `rows.every((r) => r[3] === "–" && r[7] !== "–"); })()`,
        );
        const again = await evaluate<string[][]>(page, kept);
        assert.deepEqual(again.map((r) => r[7]).sort(), rows.map((r) => r[7]).sort());
        // A score set's kept LDS is a method of its own: influence scores of the study's test
        // examples against its training ids (a dataset whose ids are the study's).
        const texts = [...runs[0].testExamples, "e0", "e1", "e2", "e3", "e4", "e5"]
          .map((id, i) => JSON.stringify({ id, text: `example ${i} ${id} ${"ab".repeat(i)}` }))
          .join("\n");
        const uploaded = await fetch(`${service.url}/v1/datasets?name=cmp-texts`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-ndjson" },
          body: texts,
        }).then(async (r) => ({ status: r.status, body: await r.json() }));
        assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
        const models = await call("/v1/models");
        const factors = await call("/v1/influence/factors", {
          model: models.body.models[0].id,
          dataset: uploaded.body.id,
        });
        assert.equal(factors.status, 202, JSON.stringify(factors.body));
        await finished(factors.body.job);
        const scores = await call("/v1/influence/scores", {
          factors: factors.body.factors.id,
          queries: { dataset: uploaded.body.id, ids: runs[0].testExamples },
          train: { dataset: uploaded.body.id, ids: ["e0", "e1", "e2", "e3", "e4", "e5"] },
        });
        assert.equal(scores.status, 202, JSON.stringify(scores.body));
        await finished(scores.body.job);
        const scoreLds = await call("/v1/evaluations/lds", {
          study: "cmp",
          runs: ids.slice(3),
          method: { scores: scores.body.scores.id },
        });
        assert.equal(scoreLds.status, 202, JSON.stringify(scoreLds.body));
        await finished(scoreLds.body.job);
        await page.click("button[name=refresh-compare]");
        await page.waitForSelector(
          `#view-compare tr[data-method="${scores.body.scores.id}"]`,
          { timeout: 30_000 },
        );
        const scoreRow = await evaluate<string[]>(
          page,
          `[...document.querySelector('#view-compare tr[data-method="${scores.body.scores.id}"]')` +
            `.querySelectorAll("td")].map((td) => td.textContent)`,
        );
        assert.match(scoreRow[0], /^score set /);
        assert.match(scoreRow[7], /^-?\d\.\d{3} \[/, JSON.stringify(scoreRow));
        assert.equal(scoreRow[8], "5");
        await shot("7-compare");
      });

      await t.step("jobs: running and recent jobs, and a cancel from the list", async () => {
        const models = await call("/v1/models");
        const long = await call("/v1/training-runs", {
          study: "long",
          model: models.body.models[0].id,
          dataset: "builtin:skills",
          trainExamples: 12,
          testExamples: 4,
          runs: 1,
          steps: 5000,
          batchSize: 4,
          optimizer: { kind: "adamw", lr: 0.01 },
        });
        assert.equal(long.status, 202, JSON.stringify(long.body));
        await openTab(page, "jobs");
        const row = `#view-jobs tr[data-job="${long.body.job}"]`;
        await page.waitForSelector(`${row}[data-status=running]`, { timeout: 60_000 });
        // Finished jobs are listed too: the fits, factors, scores and recordings above.
        const statuses = await evaluate<string[]>(
          page,
          `[...document.querySelectorAll("#view-jobs tbody tr")].map((tr) => tr.dataset.status)`,
        );
        assert.ok(statuses.filter((s) => s === "succeeded").length >= 5, statuses.join());
        await shot("8-jobs");
        await page.click(`${row} button[name=cancel-job]`);
        await page.waitForSelector(`${row}[data-status=cancelled]`, { timeout: 60_000 });
        const job = await call(`/v1/jobs/${long.body.job}`);
        assert.equal(job.body.status, "cancelled");
      });

      await t.step(
        "lost streams: a cut simulation says so; a cut job stream reconnects",
        async () => {
          // The browser's requests pass through here: the first of each stream is cut short.
          let simulateCut = 0;
          let jobStreamCuts = 0;
          await page.setRequestInterception(true);
          page.on("request", (request) => {
            if (request.isInterceptResolutionHandled()) return;
            const url = request.url();
            if (url.endsWith("/simulate") && simulateCut === 0) {
              simulateCut++;
              const meta = { tests: ["q0"], steps: 20, chunkSteps: 1, initialLosses: [2.5] };
              const steps = [1, 2, 3].map((t) =>
                `event: step\ndata: ${JSON.stringify({ t, losses: [2.5 - 0.1 * t] })}\n\n`
              );
              void request.respond({
                status: 200,
                contentType: "text/event-stream",
                body: `event: meta\ndata: ${JSON.stringify(meta)}\n\n${steps.join("")}`,
              });
            } else if (/\/v1\/jobs\/[^/]+\/events$/.test(url) && jobStreamCuts === 0) {
              jobStreamCuts++;
              const progress = {
                phase: "run 1/2",
                fraction: 0.01,
                step: 0,
                total: 20,
                etaSeconds: null,
                throughput: null,
                message: null,
              };
              void request.respond({
                status: 200,
                contentType: "text/event-stream",
                body: `event: progress\ndata: ${JSON.stringify(progress)}\n\n`,
              });
            } else void request.continue();
          });
          try {
            await openTab(page, "counterfactuals");
            await page.waitForSelector("#view-counterfactuals[data-ready=true]", {
              timeout: 30_000,
            });
            await page.waitForSelector(".influence button[data-train]", { timeout: 30_000 });
            await page.click("button[name=simulate]");
            await waitText(page, "#view-counterfactuals .error", /stream was lost after step 3/);
            assert.equal((await dataset(page, "#view-counterfactuals .chart")).status, "lost");

            await openTab(page, "models");
            await page.waitForSelector("button[name=record]");
            await setValue(page, "input[name=steps]", "10");
            await page.click("button[name=record]");
            await page.waitForSelector("#view-models .job[data-status]", { timeout: 120_000 });
            assert.equal((await dataset(page, "#view-models .job")).status, "succeeded");
            assert.equal(jobStreamCuts, 1);
            assert.equal(simulateCut, 1);
          } finally {
            await page.setRequestInterception(false);
          }
        },
      );

      await t.step("no console errors", () => {
        assert.deepEqual(consoleErrors, []);
        // The wrong token (401) and the broken file (400): Chrome logs each refused request.
        assert.ok(expectedErrors.length >= 2, JSON.stringify(expectedErrors));
      });
      console.log(`screenshots: ${shots}`);
    } catch (e) {
      console.error(service.output().slice(-4000));
      throw e;
    } finally {
      await browser.close();
      await service.stop();
    }
  },
});

Deno.test({
  name: "browser: without a token configured the page has no Forget token button",
  ignore: !chromiumPresent,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const work = await Deno.makeTempDir({ prefix: "simfluence-browser-open-" });
    const service = await startService();
    const browser = await launch(join(work, "profile"));
    try {
      const page = await browser.newPage();
      await page.goto(service.url, { waitUntil: "load" });
      await page.waitForSelector("#panel[data-ready=studies]", { timeout: 30_000 });
      const buttons = await evaluate<string[]>(
        page,
        `[...document.querySelectorAll(".top-bar button")].map((b) => b.textContent)`,
      );
      assert.ok(!buttons.includes("Forget token"), JSON.stringify(buttons));
      assert.equal(await evaluate(page, `sessionStorage.getItem("simfluence-token")`), null);
    } finally {
      await browser.close();
      await service.stop();
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
