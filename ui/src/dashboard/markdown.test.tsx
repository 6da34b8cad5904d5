import type { VNode } from "preact";
import { describe, expect, it } from "vitest";
import { renderInline, renderMarkdown, safeHref } from "./markdown";

/** Flattens a VNode tree to [tag, text] pairs and collects every prop name used. */
function walk(node: unknown, out: { tags: string[]; text: string[]; props: string[] }) {
  if (node === null || node === undefined || typeof node === "boolean") return;
  if (typeof node === "string" || typeof node === "number") {
    out.text.push(String(node));
    return;
  }
  if (Array.isArray(node)) {
    for (const n of node) walk(n, out);
    return;
  }
  const v = node as VNode<Record<string, unknown>>;
  if (typeof v.type === "string") out.tags.push(v.type);
  for (const k of Object.keys(v.props ?? {})) if (k !== "children") out.props.push(k);
  walk(v.props?.["children"], out);
}

function summary(nodes: unknown) {
  const out = { tags: [] as string[], text: [] as string[], props: [] as string[] };
  walk(nodes, out);
  return out;
}

describe("markdown subset", () => {
  it("renders headings, lists, code and inline markup as elements", () => {
    const s = summary(renderMarkdown("# Title\n\nSome **bold** and *em* and `code`.\n\n- one\n- two\n\n```\nx < y\n```"));
    expect(s.tags).toEqual(["h3", "p", "strong", "em", "code", "ul", "li", "li", "pre", "code"]);
    expect(s.text).toContain("x < y");
  });

  it("keeps HTML as text and never sets innerHTML", () => {
    const s = summary(renderMarkdown('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">'));
    expect(s.tags).toEqual(["p", "p"]);
    expect(s.text.join("")).toContain("<script>alert(1)</script>");
    expect(s.props).not.toContain("dangerouslySetInnerHTML");
  });

  it("links only to http(s) and paths", () => {
    expect(safeHref("https://grafana.com")).toBe(true);
    expect(safeHref("/d/service")).toBe(true);
    expect(safeHref("javascript:alert(1)")).toBe(false);
    expect(safeHref("//evil.example")).toBe(false);
    const bad = summary(renderInline("[x](javascript:alert(1))"));
    expect(bad.tags).toEqual([]);
    const good = summary(renderInline("[docs](https://example.com/a)"));
    expect(good.tags).toEqual(["a"]);
    expect(good.props).toEqual(expect.arrayContaining(["href", "rel", "target"]));
  });
});
