// The web page in a real browser: Debian's Chromium, headless, driven by puppeteer-core against
// the real service (a child process on a free port, temporary store, API token set). The flow:
// token prompt, upload runs, plot 200 × 400 curves (timed), fit Linear with live progress,
// evaluation, a streamed counterfactual, models with a recorded training run, attribution of a
// query scored from the page (factors fitted through the API).
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
  /Failed to load resource: the server responded with a status of (400|401)/;

async function launch(profile: string): Promise<Browser> {
  return await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, `--user-data-dir=${profile}`],
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
    const browser = await launch(join(work, "profile"));
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
          await shot("5-attribution");
        },
      );

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
