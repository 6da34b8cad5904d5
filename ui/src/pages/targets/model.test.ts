import { describe, expect, it } from "vitest";
import type { ActiveTarget } from "../../api/prometheus";
import { ago, formatScrapeDuration, groupTargets, matchesSearch } from "./model";

function target(job: string, url: string, health: ActiveTarget["health"], labels: Record<string, string> = {}, lastError = ""): ActiveTarget {
  return {
    discoveredLabels: {},
    labels: { job, ...labels },
    scrapePool: job,
    scrapeUrl: url,
    lastError,
    lastScrape: "2026-01-01T00:00:00Z",
    lastScrapeDuration: 0.01,
    health,
    scrapeInterval: "15s",
    scrapeTimeout: "10s",
  };
}

const targets = [
  target("web", "http://b:80/metrics", "up"),
  target("web", "http://a:80/metrics", "down", { env: "prod" }, "connection refused"),
  target("api", "http://c:80/metrics", "up", { env: "dev" }),
  target("web", "http://c:80/metrics", "unknown"),
];

describe("groupTargets", () => {
  it("groups by job, sorted, counting up over all targets", () => {
    const g = groupTargets(targets, "all", "");
    expect(g.map((x) => [x.job, x.up, x.total, x.targets.map((t) => t.scrapeUrl)])).toEqual([
      ["api", 1, 1, ["http://c:80/metrics"]],
      ["web", 1, 3, ["http://a:80/metrics", "http://b:80/metrics", "http://c:80/metrics"]],
    ]);
  });

  it("shows only unhealthy targets and drops jobs left empty", () => {
    const g = groupTargets(targets, "unhealthy", "");
    expect(g.map((x) => [x.job, x.up, x.total, x.targets.length])).toEqual([["web", 1, 3, 2]]);
  });

  it("searches endpoints, label pairs and errors", () => {
    expect(groupTargets(targets, "all", 'env="prod"').map((x) => x.targets.map((t) => t.scrapeUrl))).toEqual([
      ["http://a:80/metrics"],
    ]);
    expect(groupTargets(targets, "all", "REFUSED")[0]?.targets).toHaveLength(1);
    expect(groupTargets(targets, "all", "c:80").map((x) => x.job)).toEqual(["api", "web"]);
    expect(matchesSearch(targets[0] as ActiveTarget, "nothing-like-this")).toBe(false);
  });
});

describe("formatting", () => {
  it("says how long ago and never for the zero time", () => {
    const now = Date.parse("2026-01-01T00:01:05Z");
    expect(ago("2026-01-01T00:01:00Z", now)).toBe("5.0s ago");
    expect(ago("2026-01-01T00:00:00Z", now)).toBe("1m 5s ago");
    expect(ago("0001-01-01T00:00:00Z", now)).toBe("never");
    expect(ago("garbage", now)).toBe("never");
  });

  it("formats durations", () => {
    expect(formatScrapeDuration(0.0123)).toBe("12.3ms");
    expect(formatScrapeDuration(1.5)).toBe("1.500s");
  });
});
