import { describe, expect, it } from "vitest";
import { functionSuggestions, quoteLabelValue, rank, type Suggestion } from "./completions";

const metric = (text: string): Suggestion => ({ text, kind: "metric", detail: "" });

describe("rank", () => {
  it("puts popular functions first, then prefix matches by length, then substring matches", () => {
    const all = [...functionSuggestions(), metric("rack_temperature"), metric("http_request_rate")];
    const texts = rank(all, "ra").map((s) => s.text);
    expect(texts.slice(0, 3)).toEqual(["rate", "rad", "rack_temperature"]);
    expect(texts).toContain("irate");
    expect(texts.indexOf("http_request_rate")).toBeGreaterThan(texts.indexOf("rack_temperature"));
  });

  it("offers nothing when the only match is what was typed, and dedupes", () => {
    expect(rank([metric("up")], "up")).toEqual([]);
    expect(rank([metric("up"), metric("up"), metric("up_total")], "")).toHaveLength(2);
  });
});

describe("quoteLabelValue", () => {
  it("escapes quotes and backslashes for double quotes, keeps backticks raw", () => {
    expect(quoteLabelValue('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteLabelValue("a'b", "'")).toBe("'a\\'b'");
    expect(quoteLabelValue("a\\d", "`")).toBe("`a\\d`");
  });
});
