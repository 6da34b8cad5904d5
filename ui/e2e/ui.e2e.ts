// Browser tests of the UI against the demo stack (stack.ts: `tetrad demo` plus a second project
// `staging` on the same server). Headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) checks that every panel of the service dashboard shows the demo's data, that
// Project and Service switch the data, that dragging on a chart zooms the range and back
// restores it, that Explore draws a query and marks a bad one's error position, that Targets
// shows the demo's targets up, and that a label value made of HTML is shown as text. It prints
// how long the dashboard took to load all panels over the last hour.
//
// With TETRAD_UPDATE_SCREENSHOTS=1 the run ends by writing docs/screenshots/*.png, once the
// demo has run TETRAD_SCREENSHOT_WARMUP_S seconds (default 600, so the 15-minute charts are
// mostly filled).
// Needs TETRAD_BIN (the tetrad binary; scripts/test sets it) and chromium (CHROMIUM overrides
// the path).

import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MARKUP_VALUE, sleep, startStack, until, type Stack } from "./stack";

const CHROMIUM = process.env["CHROMIUM"] ?? "/usr/bin/chromium";
const UPDATE_SCREENSHOTS = process.env["TETRAD_UPDATE_SCREENSHOTS"] === "1";
const SCREENSHOTS = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));
const WARMUP_MS = warmupMs(process.env["TETRAD_SCREENSHOT_WARMUP_S"] ?? "600");
const VIEWPORT = { width: 1440, height: 900 };

/** Every metric panel of the service dashboard. */
const PANELS = [
  "Apdex",
  "Error rate",
  "Total requests",
  "Workers",
  "RPS total",
  "RPS by path",
  "RPS by status code",
  "P50 latency",
  "P95 latency",
  "P99 latency",
  "Top 10 slowest endpoints (P95)",
  "Average duration by endpoint",
  "Requests in progress",
  "4xx rate by path",
  "5xx rate by path",
  "Exceptions by type",
];

function warmupMs(secs: string): number {
  const n = Number(secs);
  if (!Number.isFinite(n) || n < 0 || n > 3600) {
    throw new Error(`TETRAD_SCREENSHOT_WARMUP_S must be 0 to 3600 seconds, got ${JSON.stringify(secs)}`);
  }
  return n * 1000;
}

let stack: Stack | undefined;
let browser: Browser | undefined;
let base = "";

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM`);
  stack = await startStack();
  base = stack.base;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 90_000);

afterAll(async () => {
  try {
    if (UPDATE_SCREENSHOTS && stack) await sleep(Math.max(0, stack.startedAt + WARMUP_MS - Date.now()));
    if (UPDATE_SCREENSHOTS && browser) await writeScreenshots(browser);
  } finally {
    await browser?.close();
    await stack?.stop();
  }
}, 60_000 + (UPDATE_SCREENSHOTS ? WARMUP_MS : 0));

async function newPage(): Promise<Page> {
  return browser!.newPage({ viewport: VIEWPORT });
}

/** What a panel shows: data, an error or "No data". */
const SHOWS_DATA = ".u-over, .stat-value, .bar-row, .data-table, .gauge";
const SHOWS_SOMETHING = `${SHOWS_DATA}, .panel-error, .panel-nodata`;

/**
 * Waits until every panel finished loading and drew its body (a chart is created in an effect
 * after the data arrives), and returns, per title, what it shows.
 */
async function panelStates(page: Page): Promise<Record<string, string>> {
  await page.waitForFunction(
    (something) => {
      const panels = [...document.querySelectorAll(".panel")];
      return (
        panels.length > 0 &&
        document.querySelectorAll(".panel-loading").length === 0 &&
        panels.every((p) => p.querySelector(something) !== null)
      );
    },
    SHOWS_SOMETHING,
    { timeout: 30_000 },
  );
  return page.evaluate((shows) => {
    const out: Record<string, string> = {};
    for (const p of document.querySelectorAll<HTMLElement>(".panel")) {
      const title = p.dataset["panelTitle"] ?? "";
      const err = p.querySelector(".panel-error")?.textContent;
      const empty = p.querySelector(".panel-nodata");
      out[title] = err ? `error: ${err}` : empty ? "no data" : p.querySelector(shows) ? "data" : "nothing";
    }
    return out;
  }, SHOWS_DATA);
}

/** The query a panel sent, from its Explore link. */
async function panelExpr(page: Page, title: string): Promise<string> {
  const href = await page.getAttribute(`[data-panel-title="${title}"] .panel-explore`, "href");
  return new URL(href ?? "", base).searchParams.get("expr") ?? "";
}

/** Loads `url` and returns every query the dashboard's panels got an answer to (not the aborted). */
async function loadAndRecordQueries(page: Page, url: string): Promise<URL[]> {
  const sent: URL[] = [];
  const record = (r: { url: () => string }) => {
    const u = new URL(r.url());
    if (u.pathname === "/api/v1/query_range" || u.pathname === "/api/v1/query") sent.push(u);
  };
  page.on("requestfinished", record);
  try {
    await page.goto(url);
    await panelStates(page);
  } finally {
    page.off("requestfinished", record);
  }
  return sent;
}

/** The same query, asked as the panel would ask it now: range moved to the current step grid. */
function askedNow(u: URL, nowMs: number): URL {
  const q = new URL(u);
  if (q.pathname === "/api/v1/query") {
    q.searchParams.set("time", (nowMs / 1000).toFixed(3));
    return q;
  }
  const step = Number(q.searchParams.get("step"));
  const end = Number(q.searchParams.get("end"));
  const start = Number(q.searchParams.get("start"));
  // Whole steps forward, like the UI's alignment of the range to the step.
  const shift = Math.floor((nowMs / 1000 - end) / step) * step;
  q.searchParams.set("start", (start + shift).toFixed(3));
  q.searchParams.set("end", (end + shift).toFixed(3));
  return q;
}

async function hasPoint(u: URL): Promise<boolean> {
  const j = (await (await fetch(u)).json()) as { data?: { result?: unknown[] } };
  return (j.data?.result?.length ?? 0) > 0;
}

/**
 * Waits (at most `timeoutMs`) until every query the dashboard at `url` sends has a point, by
 * asking the API the panels' own queries moved to the current time.
 *
 * Why this is needed: the UI, like Grafana (its Prometheus data source's `AlignTimeRange`
 * rounds start *and end* down to a multiple of the step), aligns a range query's end down, so a
 * panel's newest point is up to one step old; `rate()`/`increase()` there need two samples older
 * than that aligned end. Rate panels step by 15 s, but "Total requests" asks for 30 points, so
 * it steps by 30 s over 15 minutes and by 2 minutes over an hour: right after the demo starts it
 * says "No data" until the next step boundary. Series that appear later (the first 404, the
 * first panic) wait the same way.
 */
async function waitForEveryQuery(page: Page, url: string, timeoutMs: number): Promise<void> {
  const sent = await loadAndRecordQueries(page, url);
  expect(sent.length).toBeGreaterThanOrEqual(PANELS.length);
  let missing: string[] = [];
  await until("every panel's query to have a point", timeoutMs, async () => {
    const now = Date.now();
    const answers = await Promise.all(sent.map((u) => hasPoint(askedNow(u, now))));
    missing = sent.filter((_, i) => !answers[i]).map((u) => u.searchParams.get("query") ?? "");
    return missing.length === 0 ? true : undefined;
  }).catch((e: unknown) => {
    throw new Error(`${String(e)}; without a point: ${missing.join(" ; ")}`);
  });
}

async function legendTexts(page: Page, title: string): Promise<string[]> {
  return page.$$eval(`[data-panel-title="${title}"] .chart-legend li`, (lis) => lis.map((l) => l.textContent ?? ""));
}

async function statText(page: Page, title: string): Promise<string> {
  return (await page.textContent(`[data-panel-title="${title}"] .stat-value`)) ?? "";
}

describe("service dashboard", () => {
  it("shows the demo's data in every panel", async () => {
    const page = await newPage();
    const url = `${base}/d/service?from=now-15m&to=now&var-project=demo`;
    await waitForEveryQuery(page, url, 60_000);
    await page.goto(url);
    const states = await panelStates(page);
    for (const t of PANELS) expect(states[t], t).toBe("data");
    // The data is the demo's: its services and replicas, its routes.
    expect(await legendTexts(page, "Workers")).toEqual(expect.arrayContaining(["demo/backend", "demo/inventory"]));
    expect(await legendTexts(page, "RPS by path")).toEqual(expect.arrayContaining(["/items/{id}", "/slow", "/stock/{id}"]));
    expect(await legendTexts(page, "Exceptions by type")).toContain("DemoPanic");
    await page.close();
  }, 90_000);

  it("switches the data with Project and Service", async () => {
    const page = await newPage();
    await page.goto(`${base}/d/service?from=now-15m&to=now&var-project=demo`);
    await panelStates(page);
    const demoTotal = await statText(page, "Total requests");
    // From All, picking one project selects just that one.
    await page.goto(`${base}/d/service?from=now-15m&to=now`);
    await panelStates(page);
    const options = async (name: string) => {
      await page.click(`[data-variable=${name}]`);
      return page.$$eval(".var-menu li", (lis) => lis.map((l) => l.textContent ?? ""));
    };
    expect(await options("project")).toEqual(["All", "demo", "staging"]);
    await page.click(".var-menu li:text-is('staging')");
    await page.keyboard.press("Escape");
    await page.waitForURL(/var-project=staging/);
    expect(new URL(page.url()).searchParams.getAll("var-project")).toEqual(["staging"]);
    // The panels reload with the new selection: poll until they show it (or time out).
    const onlyStaging = (names: string[]) =>
      names.includes("staging/backend") && names.includes("staging/markup") && !names.some((n) => n.startsWith("demo/"));
    await expect.poll(() => legendTexts(page, "Workers"), { timeout: 15_000 }).toSatisfy(onlyStaging);
    await expect.poll(() => panelExpr(page, "RPS by path"), { timeout: 15_000 }).toContain('project=~"staging"');
    // Staging started a moment after the demo: its total may still wait for a step boundary.
    await waitForEveryQuery(page, page.url(), 60_000);
    await page.reload();
    await panelStates(page);
    expect(await legendTexts(page, "Workers")).toSatisfy(onlyStaging);
    // Staging runs its own backend and the markup service: the Service dropdown follows.
    expect(await options("service")).toEqual(["All", "backend", "markup"]);
    await page.keyboard.press("Escape");
    // Staging's load is 5 req/s against the demo's 20: the totals differ.
    const stagingTotal = await statText(page, "Total requests");
    expect(stagingTotal).not.toBe("");
    expect(stagingTotal).not.toBe(demoTotal);
    // Service: the inventory's routes are not the backend's.
    await page.goto(`${base}/d/service?from=now-15m&to=now&var-project=demo`);
    await panelStates(page);
    await page.click("[data-variable=service]");
    await page.click(".var-menu li:text-is('inventory')");
    await page.keyboard.press("Escape");
    await page.waitForURL(/var-service=inventory/);
    expect(new URL(page.url()).searchParams.getAll("var-service")).toEqual(["inventory"]);
    await expect
      .poll(() => legendTexts(page, "RPS by path"), { timeout: 15_000 })
      .toSatisfy((paths: string[]) => paths.includes("/stock/{id}") && !paths.includes("/items/{id}"));
    await page.goto(`${base}/d/service?from=now-15m&to=now&var-project=demo&var-service=backend`);
    await panelStates(page);
    const backendPaths = await legendTexts(page, "RPS by path");
    expect(backendPaths).toContain("/items/{id}");
    expect(backendPaths).not.toContain("/stock/{id}");
    await page.close();
  }, 60_000);

  it("zooms by dragging on a chart, and back restores the range", async () => {
    const page = await newPage();
    await page.goto(`${base}/d/service?from=now-15m&to=now&var-project=demo`);
    await panelStates(page);
    const box = await page.locator('[data-panel-title="RPS total"] .u-over').boundingBox();
    if (!box) throw new Error("no chart area");
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.5, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, y, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.9, y, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL(/from=\d+&to=\d+/);
    const url = new URL(page.url());
    const from = Number(url.searchParams.get("from"));
    const to = Number(url.searchParams.get("to"));
    // 40 % of a 15-minute range.
    expect(to - from).toBeGreaterThan(5 * 60_000);
    expect(to - from).toBeLessThan(7 * 60_000);
    await page.goBack();
    await page.waitForURL(/from=now-15m&to=now/);
    expect(new URL(page.url()).searchParams.get("from")).toBe("now-15m");
    await page.close();
  }, 60_000);

  it("shows a label value made of HTML as text", async () => {
    const page = await newPage();
    let dialogs = 0;
    page.on("dialog", (d) => {
      dialogs++;
      void d.dismiss();
    });
    await page.goto(`${base}/d/service?from=now-15m&to=now&var-project=staging&var-service=markup`);
    await panelStates(page);
    expect(await legendTexts(page, "RPS by path")).toContain(MARKUP_VALUE);
    // Shown as text: no <b> holding "x" and no <script> came from the value, and nothing ran.
    expect(await page.$$eval(".panel b", (bs) => bs.filter((b) => b.textContent === "x").length)).toBe(0);
    expect(await page.$$eval("script", (ss) => ss.filter((s) => (s.textContent ?? "").includes("alert")).length)).toBe(0);
    expect(dialogs).toBe(0);
    await page.close();
  }, 60_000);
});

describe("Explore", () => {
  it("draws a query as a graph and a table, and marks where a bad query fails", async () => {
    const page = await newPage();
    await page.goto(`${base}/explore?from=now-15m&to=now`);
    await page.fill(".pe-input", 'sum by (path) (rate(http_requests_total{project="demo"}[1m]))');
    await page.click(".run-button");
    await page.waitForSelector(".explore-result .u-over");
    const legend = await page.$$eval(".explore-result .chart-legend li", (lis) => lis.map((l) => l.textContent ?? ""));
    expect(legend.length).toBeGreaterThanOrEqual(3);
    expect(legend.join("\n")).toContain('path="/items/{id}"');
    await page.click("button[role=tab]:text-is('Table')");
    await page.waitForSelector(".result-table tr");
    const rows = await page.$$eval(".result-table tr", (trs) => trs.map((t) => t.textContent ?? ""));
    expect(rows.length).toBe(legend.length);
    expect(rows.join("\n")).toContain('path="/slow"');

    // Unclosed: Prometheus points just past the end, where the `)` is missing.
    const unclosed = "sum(rate(http_requests_total[1m])";
    const atEnd = await runBadQuery(page, unclosed);
    expect(atEnd.text).toBe('Error at line 1, column 34: invalid parameter "query": 1:34: parse error: unclosed left parenthesis');
    expect(atEnd.markedAt).toBe(unclosed.length);
    expect(await page.$$eval(".explore-result table, .explore-result .u-over", (e) => e.length)).toBe(0);
    // An error inside the query marks the very character it names.
    const twice = "rate(http_requests_total[1m]) * * 2";
    const inside = await runBadQuery(page, twice);
    const column = Number(/^Error at line 1, column (\d+): /.exec(inside.text)?.[1]);
    expect(inside.text).toContain("parse error");
    expect(column).toBe(twice.lastIndexOf("*") + 1);
    expect(inside.markedAt).toBe(column - 1);
    expect(inside.marked).toBe("*");
    await page.close();
  }, 60_000);
});

/** Runs a query that fails; returns the error line and where the editor marks it. */
async function runBadQuery(page: Page, expr: string): Promise<{ text: string; markedAt: number; marked: string }> {
  const before = await page.evaluate(() => document.querySelector(".explore-error")?.textContent ?? "");
  await page.fill(".pe-input", expr);
  await page.click(".run-button");
  // The URL holds the query run; its error replaces the one shown before (callers run queries
  // failing with different messages).
  await page.waitForFunction(
    ([e, prev]) =>
      new URL(location.href).searchParams.get("expr") === e &&
      (document.querySelector(".explore-error")?.textContent ?? prev) !== prev,
    [expr, before] as const,
  );
  const text = (await page.textContent(".explore-error")) ?? "";
  expect(await page.locator(".pe-error-mark").count()).toBe(1);
  const [markedAt, marked] = await page.$eval(".pe-highlight", (pre) => {
    const mark = pre.querySelector(".pe-error-mark");
    if (!mark) return [-1, ""] as const;
    const before = document.createRange();
    before.setStart(pre, 0);
    before.setEndBefore(mark);
    return [before.toString().length, mark.textContent ?? ""] as const;
  });
  return { text, markedAt, marked };
}

describe("Targets", () => {
  it("shows the demo's targets up", async () => {
    const page = await newPage();
    await page.goto(`${base}/targets`);
    await page.waitForSelector(".targets-table tbody tr");
    const rows = await page.$$eval(".targets-table tbody tr", (trs) =>
      trs.map((tr) => ({
        labels: [...tr.querySelectorAll(".chip")].map((c) => c.textContent ?? ""),
        health: tr.querySelector(".health")?.textContent ?? "",
      })),
    );
    const health = (...labels: string[]) =>
      rows.filter((r) => labels.every((l) => r.labels.includes(l))).map((r) => r.health);
    for (const instance of ["backend-1", "backend-2", "inventory-1"]) {
      expect(health('project="demo"', `instance="${instance}"`), instance).toEqual(["UP"]);
    }
    expect(health('job="tetrad"'), "tetrad").toEqual(["UP"]);
    await page.close();
  }, 60_000);
});

describe("load time", () => {
  it("loads all panels over the last hour", async () => {
    const page = await newPage();
    const url = `${base}/d/service?from=now-1h&to=now&var-project=demo`;
    // Warm up (the server's first dashboard answers, the browser's cache of the bundle).
    await page.goto(url);
    await panelStates(page);
    const t0 = Date.now();
    const sent = await loadAndRecordQueries(page, url);
    const ms = Date.now() - t0;
    const states = await panelStates(page);
    for (const t of PANELS.filter((p) => p !== "Total requests")) expect(states[t], t).toBe("data");
    // Over an hour "Total requests" steps by two minutes and its end is aligned down to the
    // step (see waitForEveryQuery): within two minutes of the demo's start its only point may
    // lie before the demo's second sample. Whatever the API answers to the very request this
    // load sent, the panel must show.
    const total = sent.find((u) => (u.searchParams.get("query") ?? "").includes("increase(http_requests_total"));
    if (!total) throw new Error("the dashboard sent no Total requests query");
    const totalHasPoint = await hasPoint(total);
    expect(states["Total requests"]).toBe(totalHasPoint ? "data" : "no data");
    const note = totalHasPoint ? "" : " (Total requests: no point yet, its 2-minute step ends before the demo's second sample)";
    console.log(`dashboard (last hour): all ${PANELS.length} panels loaded in ${ms} ms${note}`);
    await page.close();
  }, 60_000);
});

/** Full-page PNGs of the dashboard, Explore and Targets for the README. */
async function writeScreenshots(b: Browser): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const page = await b.newPage({ viewport: VIEWPORT });
  await page.goto(`${base}/d/service?from=now-15m&to=now&var-project=demo`);
  await panelStates(page);
  await page.screenshot({ path: `${SCREENSHOTS}dashboard.png`, fullPage: true });
  const expr = 'sum by (path) (rate(http_requests_total{project="demo"}[1m]))';
  await page.goto(`${base}/explore?from=now-15m&to=now&expr=${encodeURIComponent(expr)}`);
  await page.waitForSelector(".explore-result .u-over");
  await page.screenshot({ path: `${SCREENSHOTS}explore.png`, fullPage: true });
  await page.goto(`${base}/targets`);
  await page.waitForSelector(".targets-table tbody tr");
  await page.screenshot({ path: `${SCREENSHOTS}targets.png`, fullPage: true });
  await page.close();
}
