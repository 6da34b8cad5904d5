import { describe, expect, it } from "vitest";
import { completionContext } from "./context";

/** Context with the cursor at `|`. */
function at(q: string) {
  const cursor = q.indexOf("|");
  return completionContext(q.replace("|", ""), cursor);
}

describe("completionContext", () => {
  it("offers metrics and functions at the start and after operators", () => {
    expect(at("|")).toEqual({ kind: "metric-or-function", prefix: "", from: 0 });
    expect(at("ra|")).toEqual({ kind: "metric-or-function", prefix: "ra", from: 0 });
    expect(at("sum(rate(http_re|")).toEqual({ kind: "metric-or-function", prefix: "http_re", from: 9 });
    expect(at("up + |")).toEqual({ kind: "metric-or-function", prefix: "", from: 5 });
  });

  it("offers label names after { and after a comma, with the selector's metric", () => {
    expect(at("http_requests_total{|")).toEqual({
      kind: "label-name",
      prefix: "",
      from: 20,
      metric: "http_requests_total",
    });
    expect(at('up{job="a", inst|}')).toEqual({ kind: "label-name", prefix: "inst", from: 12, metric: "up" });
    expect(at("{|")).toEqual({ kind: "label-name", prefix: "", from: 1, metric: "" });
  });

  it("offers label values after =, inside or before the quote", () => {
    expect(at("up{job=|")).toEqual({
      kind: "label-value",
      prefix: "",
      from: 7,
      metric: "up",
      label: "job",
      quote: '"',
      quoted: false,
    });
    expect(at('up{job=~"ap|')).toEqual({
      kind: "label-value",
      prefix: "ap",
      from: 9,
      metric: "up",
      label: "job",
      quote: '"',
      quoted: true,
    });
  });

  it("offers label names in grouping lists", () => {
    expect(at("sum by (jo|")).toEqual({ kind: "label-name", prefix: "jo", from: 8, metric: "" });
    expect(at("a * on(instance) group_left(|")).toEqual({ kind: "label-name", prefix: "", from: 28, metric: "" });
  });

  it("offers nothing in durations, after a closed value or after a complete operand", () => {
    expect(at("rate(up[5|")).toEqual({ kind: "none" });
    expect(at('up{job="a"|')).toEqual({ kind: "none" });
    expect(at("up |")).toEqual({ kind: "none" });
    expect(at("up # comm|")).toEqual({ kind: "none" });
  });
});
