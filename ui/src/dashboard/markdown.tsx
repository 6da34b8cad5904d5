// A small Markdown subset for text panels, turned into Preact elements — never into an HTML
// string — so whatever a dashboard's text says is shown as text. Supported: `#` headings,
// paragraphs, `-`/`*`/`1.` lists, fenced code blocks, `inline code`, **bold**, *italic*/_italic_
// and [links](https://…) whose target is http(s) or a path (anything else is shown as text).

import type { ComponentChildren, VNode } from "preact";

/** Whether a link target is safe to follow. */
export function safeHref(href: string): boolean {
  return /^(https?:\/\/|\/(?!\/)|#)/i.test(href.trim());
}

const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[[^\]]+\]\([^)\s]+\))/;

/** Renders inline markup of one line or paragraph. */
export function renderInline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let rest = text;
  let key = 0;
  while (rest.length > 0) {
    const m = INLINE.exec(rest);
    if (!m || m.index === undefined) {
      out.push(rest);
      break;
    }
    if (m.index > 0) out.push(rest.slice(0, m.index));
    const tok = m[0];
    if (m[1]) out.push(<code key={key++}>{tok.slice(1, -1)}</code>);
    else if (m[2]) out.push(<strong key={key++}>{renderInline(tok.slice(2, -2))}</strong>);
    else if (m[3]) out.push(<em key={key++}>{renderInline(tok.slice(1, -1))}</em>);
    else if (m[4]) {
      const lm = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(tok);
      const label = lm?.[1] ?? tok;
      const href = lm?.[2] ?? "";
      out.push(
        safeHref(href) ? (
          <a key={key++} href={href} target="_blank" rel="noopener noreferrer">
            {label}
          </a>
        ) : (
          tok
        ),
      );
    }
    rest = rest.slice(m.index + tok.length);
  }
  return out;
}

/** Renders a Markdown document. */
export function renderMarkdown(src: string): VNode[] {
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  const blocks: VNode[] = [];
  let para: string[] = [];
  let list: { ordered: boolean; items: string[] } | null = null;
  let key = 0;
  const flushPara = () => {
    if (para.length > 0) blocks.push(<p key={key++}>{renderInline(para.join(" "))}</p>);
    para = [];
  };
  const flushList = () => {
    if (list) {
      const items = list.items.map((it, i) => <li key={i}>{renderInline(it)}</li>);
      blocks.push(list.ordered ? <ol key={key++}>{items}</ol> : <ul key={key++}>{items}</ul>);
    }
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*```/.test(line)) {
      flushPara();
      flushList();
      const code: string[] = [];
      i += 1;
      while (i < lines.length && !/^\s*```/.test(lines[i]!)) code.push(lines[i++]!);
      blocks.push(
        <pre key={key++}>
          <code>{code.join("\n")}</code>
        </pre>,
      );
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      flushPara();
      flushList();
      const level = Math.min((h[1] ?? "#").length + 2, 6);
      const content = renderInline(h[2] ?? "");
      const Tag = `h${level}` as "h3";
      blocks.push(<Tag key={key++}>{content}</Tag>);
      continue;
    }
    const li = /^\s*([-*+]|\d+\.)\s+(.*)$/.exec(line);
    if (li) {
      flushPara();
      const ordered = /\d/.test(li[1] ?? "");
      if (list && list.ordered !== ordered) flushList();
      list ??= { ordered, items: [] };
      list.items.push(li[2] ?? "");
      continue;
    }
    if (line.trim() === "") {
      flushPara();
      flushList();
      continue;
    }
    flushList();
    para.push(line.trim());
  }
  flushPara();
  flushList();
  return blocks;
}
