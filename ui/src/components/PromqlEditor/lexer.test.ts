import { describe, expect, it } from "vitest";
import { tokenize } from "./lexer";

/** Non-space tokens as `kind:text`. */
function kinds(q: string): string[] {
  return tokenize(q)
    .filter((t) => t.kind !== "space")
    .map((t) => `${t.kind}:${t.text}`);
}

describe("tokenize", () => {
  it("covers the text exactly", () => {
    const q = 'sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) # errors';
    const toks = tokenize(q);
    expect(toks.map((t) => t.text).join("")).toBe(q);
    for (let i = 1; i < toks.length; i++) expect(toks[i]?.start).toBe(toks[i - 1]?.end);
  });

  it("classifies aggregation, grouping labels, function, selector and duration", () => {
    expect(kinds('sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) # errors')).toEqual([
      "keyword:sum",
      "keyword:by",
      "paren:(",
      "label:job",
      "paren:)",
      "paren:(",
      "function:rate",
      "paren:(",
      "metric:http_requests_total",
      "paren:{",
      "label:code",
      "operator:=~",
      'string:"5.."',
      "paren:}",
      "paren:[",
      "duration:5m",
      "paren:]",
      "paren:)",
      "paren:)",
      "comment:# errors",
    ]);
  });

  it("reads subqueries, offsets, @ and numbers", () => {
    expect(kinds("max_over_time(up[1h:30s] offset 1h30m @ end()) > 1e3 + 0x1F")).toEqual([
      "function:max_over_time",
      "paren:(",
      "metric:up",
      "paren:[",
      "duration:1h",
      "operator::",
      "duration:30s",
      "paren:]",
      "keyword:offset",
      "duration:1h30m",
      "operator:@",
      "function:end",
      "paren:(",
      "paren:)",
      "paren:)",
      "operator:>",
      "number:1e3",
      "operator:+",
      "number:0x1F",
    ]);
  });

  it("keeps escaped quotes inside strings and backticks raw", () => {
    expect(kinds('up{path="a\\"b",re=~`\\d+`}')).toEqual([
      "metric:up",
      "paren:{",
      "label:path",
      "operator:=",
      'string:"a\\"b"',
      "operator:,",
      "label:re",
      "operator:=~",
      "string:`\\d+`",
      "paren:}",
    ]);
  });

  it("treats a name not followed by ( as a metric, and recording-rule colons as part of it", () => {
    expect(kinds("rate + job:http:rate5m * on(instance) group_left(version) build_info")).toEqual([
      "metric:rate",
      "operator:+",
      "metric:job:http:rate5m",
      "operator:*",
      "keyword:on",
      "paren:(",
      "label:instance",
      "paren:)",
      "keyword:group_left",
      "paren:(",
      "label:version",
      "paren:)",
      "metric:build_info",
    ]);
  });

  it("never fails: an unclosed string runs to the end and stray characters are errors", () => {
    expect(kinds('up{job="api')).toEqual(["metric:up", "paren:{", "label:job", "operator:=", 'string:"api']);
    expect(kinds("up $ 1")).toEqual(["metric:up", "error:$", "number:1"]);
  });
});
