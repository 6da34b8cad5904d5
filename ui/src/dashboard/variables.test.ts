import { describe, expect, it } from "vitest";
import type { VariableModel } from "./model";
import {
  ALL,
  applyRegex,
  chooseSelection,
  escapePromqlRegex,
  formatVariable,
  interpolate,
  parseCustomOptions,
  parseLabelValuesQuery,
  type ResolvedVariable,
} from "./variables";

function model(over: Partial<VariableModel>): VariableModel {
  return {
    name: "v",
    label: "",
    type: "custom",
    query: "",
    multi: false,
    includeAll: false,
    allValue: undefined,
    current: [],
    hide: 0,
    regex: "",
    sort: 0,
    auto: false,
    autoCount: 30,
    autoMin: "10s",
    ...over,
  };
}

function resolved(over: Partial<VariableModel>, options: string[], selected: string[]): ResolvedVariable {
  return { model: model(over), options: options.map((o) => ({ text: o, value: o })), selected };
}

describe("variable values in queries", () => {
  it("joins several values as an escaped regex alternative", () => {
    const v = resolved({ name: "path", multi: true }, ["/a.b", "/c", "/d(e)"], ["/a.b", "/d(e)"]);
    expect(formatVariable(v)).toBe("(/a\\\\.b|/d\\\\(e\\\\))");
  });

  it("uses allValue for All, else every option", () => {
    const withAllValue = resolved({ includeAll: true, multi: true, allValue: ".*" }, ["a", "b"], [ALL]);
    expect(formatVariable(withAllValue)).toBe(".*");
    const without = resolved({ includeAll: true, multi: true }, ["a", "b"], [ALL]);
    expect(formatVariable(without)).toBe("(a|b)");
  });

  it("escapes one value of a multi variable as a regex, of a single variable as a string", () => {
    expect(formatVariable(resolved({ multi: true }, ["x.y"], ["x.y"]))).toBe("x\\\\.y");
    expect(formatVariable(resolved({}, ['say "hi"\\'], ['say "hi"\\']))).toBe('say \\"hi\\"\\\\');
    expect(escapePromqlRegex("a|b*")).toBe("a\\\\|b\\\\*");
  });

  it("interpolates every syntax and leaves unknown names", () => {
    const ctx = {
      variables: {
        project: resolved({ name: "project", includeAll: true, multi: true, allValue: ".*" }, ["dev"], [ALL]),
        service: resolved({ name: "service", multi: true }, ["api", "web"], ["api", "web"]),
      },
      builtins: { __rate_interval: "1m", __range: "3600s" },
    };
    expect(
      interpolate('rate(x{project=~"$project", service=~"${service}"}[$__rate_interval]) and $unknown [[service]]', ctx),
    ).toBe('rate(x{project=~".*", service=~"(api|web)"}[1m]) and $unknown (api|web)');
    expect(interpolate("${service:csv} ${service:pipe} ${service:json}", ctx)).toBe('api,web api|web ["api","web"]');
    expect(interpolate("Requests of $service in $project", ctx, true)).toBe("Requests of api + web in All");
  });
});

describe("variable options and selection", () => {
  it("parses custom lists with text : value pairs and escaped commas", () => {
    expect(parseCustomOptions("0.1, 0.25 ,fast : 0.05,a\\,b")).toEqual([
      { text: "0.1", value: "0.1" },
      { text: "0.25", value: "0.25" },
      { text: "fast", value: "0.05" },
      { text: "a,b", value: "a,b" },
    ]);
  });

  it("parses label_values queries", () => {
    expect(parseLabelValuesQuery("label_values(job)")).toEqual({ selector: undefined, label: "job" });
    expect(parseLabelValuesQuery('label_values(http_requests_total{project=~"a,b"}, service)')).toEqual({
      selector: 'http_requests_total{project=~"a,b"}',
      label: "service",
    });
    expect(parseLabelValuesQuery("query_result(up)")).toBeNull();
    expect(parseLabelValuesQuery("label_values(up, 1bad)")).toBeNull();
  });

  it("filters with the variable regex, keeping capture groups", () => {
    expect(applyRegex(["api-1", "api-2", "web-1"], "/api-(.*)/")).toEqual(["1", "2"]);
    expect(applyRegex(["a", "b"], "/[/")).toEqual(["a", "b"]);
  });

  it("chooses the URL value, then the saved one, then All or the first option", () => {
    const opts = ["a", "b", "c"].map((v) => ({ text: v, value: v }));
    expect(chooseSelection(model({ multi: true }), opts, ["b", "c"])).toEqual(["b", "c"]);
    expect(chooseSelection(model({}), opts, ["b", "c"])).toEqual(["b"]);
    expect(chooseSelection(model({ current: ["c"] }), opts, [])).toEqual(["c"]);
    expect(chooseSelection(model({ includeAll: true }), opts, ["gone"])).toEqual([ALL]);
    expect(chooseSelection(model({ includeAll: true }), opts, ["$__all"])).toEqual([ALL]);
    expect(chooseSelection(model({}), opts, ["gone"])).toEqual(["a"]);
    // Options unknown (e.g. the query failed): the URL's value is kept.
    expect(chooseSelection(model({}), [], ["x"])).toEqual(["x"]);
  });
});
