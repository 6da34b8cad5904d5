// Browser test of the service dashboard against a real tetrad: `tetrad up -p dev` runs two fake
// services (api ×2, web) and starts the server; `tetrad up -p staging` registers a second project
// with the same server. Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// then checks that every panel shows data, that Project and Service switch the data, that
// dragging on a chart zooms the range (and back returns), that a label value made of HTML is
// shown as text, and prints how long the dashboard took to load all panels.
//
// Needs TETRAD_BIN (the tetrad binary; scripts/test sets it) and chromium (CHROMIUM overrides
// the path).

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = process.env["TETRAD_BIN"] ?? "";
const CHROMIUM = process.env["CHROMIUM"] ?? "/usr/bin/chromium";
const FAKE = fileURLToPath(new URL("fake-service.mjs", import.meta.url));

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

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

let dir = "";
let base = "";
const procs: ChildProcess[] = [];
let browser: Browser | undefined;
let output = "";

function up(file: string, project: string): ChildProcess {
  const p = spawn(BIN, ["up", "-f", file, "-p", project], { stdio: ["ignore", "pipe", "pipe"] });
  p.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  p.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  procs.push(p);
  return p;
}

async function promql(expr: string): Promise<number> {
  const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const j = (await r.json()) as { data?: { result?: unknown[] } };
  return j.data?.result?.length ?? 0;
}

beforeAll(async () => {
  if (!BIN || !existsSync(BIN)) throw new Error(`set TETRAD_BIN to the tetrad binary (got ${JSON.stringify(BIN)})`);
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM`);
  dir = mkdtempSync(join(tmpdir(), "tetrad-ui-e2e-"));
  const [http, grpc, otlp, pyro, p1, p2, p3] = await Promise.all(Array.from({ length: 7 }, freePort));
  base = `http://127.0.0.1:${http}`;
  const common = `http_addr: 127.0.0.1:${http}
otlp_grpc_addr: 127.0.0.1:${grpc}
otlp_http_addr: 127.0.0.1:${otlp}
pyroscope_addr: 127.0.0.1:${pyro}
data_dir: ${join(dir, "data")}
global:
  scrape_interval: 1s
`;
  const svc = (port: number, replicas: number) =>
    `    command: [node, ${JSON.stringify(FAKE)}]\n    replicas: ${replicas}\n    port: ${port}\n    labels: {metrics.scrape: "true"}\n`;
  writeFileSync(join(dir, "dev.yaml"), `${common}services:\n  api:\n${svc(p1!, 2)}  web:\n${svc(p2!, 1)}`);
  writeFileSync(join(dir, "staging.yaml"), `${common}services:\n  api:\n${svc(p3!, 1)}`);
  up(join(dir, "dev.yaml"), "dev");
  await until("the server", 30_000, async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined));
  up(join(dir, "staging.yaml"), "staging");
  await until("data of both projects", 60_000, async () =>
    (await promql('sum by (project, service) (rate(http_requests_total[1m]))')) >= 3 &&
    (await promql("tetrad_service_replicas")) >= 3
      ? true
      : undefined,
  );
  // Some history so rates and quantiles have several points.
  await sleep(4000);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const p of procs.reverse()) {
    p.kill("SIGTERM");
    await new Promise((r) => {
      if (p.exitCode !== null) r(null);
      else p.once("exit", r);
    });
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** Waits until every panel finished loading and returns, per title, whether it shows data. */
async function panelStates(page: Page): Promise<Record<string, string>> {
  await page.waitForFunction(
    () =>
      document.querySelectorAll(".panel").length > 0 &&
      document.querySelectorAll(".panel-loading").length === 0,
    undefined,
    { timeout: 30_000 },
  );
  return page.evaluate(() => {
    const out: Record<string, string> = {};
    for (const p of document.querySelectorAll<HTMLElement>(".panel")) {
      const title = p.dataset["panelTitle"] ?? "";
      const err = p.querySelector(".panel-error")?.textContent;
      const empty = p.querySelector(".panel-nodata");
      const shows = p.querySelector(".u-over, .stat-value, .bar-row, .data-table, .gauge");
      out[title] = err ? `error: ${err}` : empty ? "no data" : shows ? "data" : "nothing";
    }
    return out;
  });
}

describe("service dashboard in a browser", () => {
  it("shows data in every panel, and how long that took", async () => {
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1200 } });
    const t0 = Date.now();
    await page.goto(`${base}/d/service?from=now-1h&to=now`);
    // Rates need two scrapes in their window; retry the page until all panels have data.
    const states = await until("every panel to show data", 45_000, async () => {
      const s = await panelStates(page);
      if (PANELS.every((t) => s[t] === "data")) return s;
      await page.reload();
      return undefined;
    }).catch(async (e: unknown) => {
      throw new Error(`${String(e)}\n${JSON.stringify(await panelStates(page), null, 1)}\n${output.slice(-2000)}`);
    });
    const firstLoad = Date.now() - t0;
    // A fresh load now that data exists: the figure worth reporting.
    const t1 = Date.now();
    await page.goto(`${base}/d/service?from=now-1h&to=now`);
    await panelStates(page);
    console.log(`dashboard (last hour): all ${PANELS.length} panels loaded in ${Date.now() - t1} ms (first load with retries: ${firstLoad} ms)`);
    for (const t of PANELS) expect(states[t], t).toBe("data");
    await page.close();
  }, 90_000);

  it("shows a label value made of HTML as text", async () => {
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1200 } });
    await page.goto(`${base}/d/service?from=now-15m&to=now`);
    await panelStates(page);
    const legend = await page.evaluate(() => document.body.innerText);
    expect(legend).toContain("/<script>window.__xss=1</script>");
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.evaluate(() => [...document.scripts].filter((s) => s.textContent?.includes("__xss")).length)).toBe(0);
    await page.close();
  }, 60_000);

  it("switches the data with Project and Service", async () => {
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1200 } });
    await page.goto(`${base}/d/service?from=now-15m&to=now`);
    await panelStates(page);
    const options = async (name: string) => {
      await page.click(`[data-variable=${name}]`);
      const texts = await page.$$eval(".var-menu li", (lis) => lis.map((l) => l.textContent ?? ""));
      return texts;
    };
    expect(await options("project")).toEqual(["All", "dev", "staging"]);
    await page.click(".var-menu li:text-is('staging')");
    await page.waitForURL(/var-project=staging/);
    await panelStates(page);
    // Staging runs only `api`: the Service dropdown follows the project.
    expect(await options("service")).toEqual(["All", "api"]);
    await page.keyboard.press("Escape");
    await page.mouse.click(5, 5);
    const explore = await page.getAttribute('[data-panel-title="RPS by path"] .panel-explore', "href");
    expect(decodeURIComponent((explore ?? "").replace(/\+/g, " "))).toContain('project=~"staging"');
    const stagingReplicas = await page.textContent('[data-panel-title="Workers"] .chart-legend');
    expect(stagingReplicas).toContain("staging/api");
    expect(stagingReplicas).not.toContain("dev/");
    // dev + web: web's traffic is three times api's, so the totals differ.
    await page.goto(`${base}/d/service?from=now-15m&to=now&var-project=dev&var-service=web`);
    await panelStates(page);
    const webLegend = await page.textContent('[data-panel-title="Workers"] .chart-legend');
    expect(webLegend).toContain("dev/web");
    expect(webLegend).not.toContain("api");
    await page.close();
  }, 60_000);

  it("zooms by dragging on a chart, and back restores the range", async () => {
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1200 } });
    await page.goto(`${base}/d/service?from=now-15m&to=now`);
    await panelStates(page);
    const over = page.locator('[data-panel-title="RPS total"] .u-over');
    const box = await over.boundingBox();
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
    await page.waitForURL(/from=now-15m/);
    await page.close();
  }, 60_000);
});
