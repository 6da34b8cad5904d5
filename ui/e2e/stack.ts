// The stack the browser tests run against: `tetrad demo` (backend ×2, inventory, load; project
// `demo`) on free loopback ports, then `tetrad up -p staging` registering a second project with
// the same server: one more demo backend with its own `tetrad load`, and the markup service
// (markup-service.mjs) whose label value is HTML. Stopping sends SIGTERM and checks that no
// process is left behind.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The tetrad binary under test. */
export const BIN = process.env["TETRAD_BIN"] ?? "";
const MARKUP = fileURLToPath(new URL("markup-service.mjs", import.meta.url));

/** The label value the markup service exposes. */
export const MARKUP_VALUE = "<script>alert(1)</script><b>x</b>";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 250 ms until it returns a value; fails after `timeoutMs` naming `what`. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
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
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

function listenable(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });
}

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

/** A free port whose successor is free too (the demo's second backend replica). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65535 && (await listenable(p + 1))) return p;
  }
  throw new Error("found no two consecutive free ports in 50 tries");
}

/** Whether something accepts connections on the port. */
function accepting(port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = connect(port, "127.0.0.1");
    c.once("connect", () => {
      c.destroy();
      res(true);
    });
    c.once("error", () => res(false));
  });
}

/** A running stack. */
export interface Stack {
  /** The UI and API, `http://127.0.0.1:N`. */
  base: string;
  /** When the demo was started, ms since the epoch. */
  startedAt: number;
  /** Output of every process, for failure messages. */
  output: () => string;
  /** SIGTERM to every process, waits for them, and throws if a port still answers. */
  stop: () => Promise<void>;
}

/** Number of series `expr` returns now (instant query). */
export async function seriesCount(base: string, expr: string, timeS?: number): Promise<number> {
  const t = timeS === undefined ? "" : `&time=${timeS}`;
  const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}${t}`);
  const j = (await r.json()) as { data?: { result?: unknown[] } };
  return j.data?.result?.length ?? 0;
}

/** Starts the demo and the staging project; resolves once both have rates to show. */
export async function startStack(): Promise<Stack> {
  if (!BIN || !existsSync(BIN)) throw new Error(`set TETRAD_BIN to the tetrad binary (got ${JSON.stringify(BIN)})`);
  const dir = mkdtempSync(join(tmpdir(), "tetrad-ui-e2e-"));
  const [http, grpc, otlp, pyro, inventory, stagingBackend, markup] = await Promise.all(
    Array.from({ length: 7 }, freePort),
  );
  const backend = await freePortPair();
  const ports = [http!, backend, backend + 1, inventory!, stagingBackend!, markup!];
  const base = `http://127.0.0.1:${http}`;
  const addrs = [
    `--http-addr=127.0.0.1:${http}`,
    `--otlp-grpc-addr=127.0.0.1:${grpc}`,
    `--otlp-http-addr=127.0.0.1:${otlp}`,
    `--pyroscope-addr=127.0.0.1:${pyro}`,
    `--data-dir=${join(dir, "data")}`,
  ];
  let output = "";
  const procs: ChildProcess[] = [];
  const run = (args: string[]) => {
    const p = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
    // Bounded: only the tail is ever shown.
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-20_000));
    p.stdout?.on("data", keep);
    p.stderr?.on("data", keep);
    procs.push(p);
  };
  const stop = async () => {
    for (const p of [...procs].reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const exited = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      await exited;
    }
    const left = [];
    for (const port of ports) if (await accepting(port)) left.push(port);
    const procsLeft = processesMentioning([
      dir,
      `127.0.0.1:${backend}`,
      `127.0.0.1:${backend + 1}`,
      `127.0.0.1:${stagingBackend}`,
    ]);
    rmSync(dir, { recursive: true, force: true });
    if (left.length > 0 || procsLeft.length > 0) {
      throw new Error(`left behind: ports ${left.join(", ")} still answer; processes ${procsLeft.join(", ")}`);
    }
  };

  const startedAt = Date.now();
  run([
    "demo",
    ...addrs,
    `--backend-port=${backend}`,
    `--inventory-port=${inventory}`,
    "--rate=20",
    "--scrape-interval=1s",
  ]);
  try {
    await until("the server", 30_000, async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined));
    const file = join(dir, "staging.yaml");
    const q = (s: string) => JSON.stringify(s);
    writeFileSync(
      file,
      `global:
  scrape_interval: 1s
services:
  backend:
    command: ${q(BIN)}
    args: [demo-service, backend]
    port: ${stagingBackend}
    env: {INVENTORY_URL: ${q(`http://127.0.0.1:${inventory}`)}}
    labels: {metrics.scrape: "true"}
  load:
    command: ${q(BIN)}
    args: [load, "5", ${q(`http://127.0.0.1:${stagingBackend}`)}]
  markup:
    command: [node, ${q(MARKUP)}]
    port: ${markup}
    labels: {metrics.scrape: "true"}
`,
    );
    run(["up", "-f", file, "-p", "staging", ...addrs]);
    // Rates need two scrapes of every service; the exception counter appears with the first
    // `/panic` the load sends.
    await until("rates of both projects", 60_000, async () =>
      (await seriesCount(base, "sum by (project, service) (rate(http_requests_total[1m]))")) >= 4 &&
      (await seriesCount(base, 'sum by (project) (rate(http_exceptions_total{project="demo"}[1m]))')) >= 1 &&
      (await seriesCount(base, "tetrad_service_replicas")) >= 4
        ? true
        : undefined,
    );
  } catch (e) {
    await stop().catch(() => undefined);
    throw new Error(`${String(e)}\n${output.slice(-3000)}`);
  }
  return { base, startedAt, output: () => output, stop };
}

/**
 * Pids of processes whose command line or environment contains one of `needles` (the stack's
 * temp dir, the backend URLs the load generators are given).
 */
function processesMentioning(needles: string[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      const env = readFileSync(`/proc/${name}/environ`, "utf8");
      if (needles.some((n) => cmd.includes(n) || env.includes(n))) out.push(Number(name));
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return out;
}
