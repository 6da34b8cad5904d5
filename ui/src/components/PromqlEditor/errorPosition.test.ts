import { describe, expect, it } from "vitest";
import { offsetOf, parseErrorPosition } from "./errorPosition";

describe("parseErrorPosition", () => {
  it("reads Prometheus 2.42's line:col form inside the API's message", () => {
    const msg = 'invalid parameter "query": 1:5: parse error: unexpected end of input';
    expect(parseErrorPosition(msg, "sum(")).toEqual({ line: 1, column: 5, offset: 4 });
  });

  it("reads the legacy form", () => {
    expect(parseErrorPosition("parse error at line 1, char 3: unexpected", "a +")).toEqual({
      line: 1,
      column: 3,
      offset: 2,
    });
  });

  it("counts lines and UTF-8 columns", () => {
    const q = 'up{a="é"}\n  + ?';
    expect(parseErrorPosition("2:5: parse error: unexpected character: '?'", q)?.offset).toBe(q.indexOf("?"));
    // "é" is two bytes: byte column 9 is the closing quote after it.
    expect(offsetOf('up{a="é"}', 1, 9)).toBe(7);
  });

  it("returns null when no position is named, and clamps past the end", () => {
    expect(parseErrorPosition("query timed out", "up")).toBeNull();
    expect(parseErrorPosition("1:99: parse error: x", "up")?.offset).toBe(2);
  });
});
