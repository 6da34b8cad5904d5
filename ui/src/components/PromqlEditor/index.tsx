// The PromQL editor: a plain textarea laid exactly over a `<pre>` that shows the same text
// highlighted. The textarea's own text is transparent (its caret and selection are not), so
// typing, undo, IME and copy/paste stay the browser's own, with no contenteditable. Tokens come
// from ./lexer; everything is rendered as text nodes, never HTML.
//
// Autocomplete follows ./context: metric names (`/api/v1/label/__name__/values`), functions,
// label names (`/api/v1/labels?match[]=<metric>`) and label values
// (`/api/v1/label/<name>/values?match[]=<metric>`). Arrow keys move, Tab or Enter accept,
// Escape closes. Ctrl+Enter (or Cmd+Enter) runs the query.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { labelNames, labelValues } from "../../api/prometheus";
import { completionContext, type CompletionContext } from "./context";
import { functionSuggestions, quoteLabelValue, rank, type Suggestion } from "./completions";
import { tokenize } from "./lexer";
import "./editor.css";

/** Props of PromqlEditor. */
export interface PromqlEditorProps {
  /** The text. */
  value: string;
  /** Called on every edit. */
  onChange: (value: string) => void;
  /** Called on Ctrl+Enter. */
  onRun: () => void;
  /** Offset of an error to underline, or null. */
  errorOffset?: number | null;
  /** Placeholder text. */
  placeholder?: string;
}

/** Candidates per context, cached for the life of the editor. */
type Loader = (ctx: Exclude<CompletionContext, { kind: "none" }>) => Promise<Suggestion[]>;

function useSuggestionLoader(): Loader {
  const cache = useRef(new Map<string, Promise<string[]>>());
  const cached = (key: string, load: () => Promise<string[]>) => {
    let p = cache.current.get(key);
    if (!p) {
      p = load().catch(() => {
        // A failed lookup is retried next time rather than cached.
        cache.current.delete(key);
        return [];
      });
      cache.current.set(key, p);
    }
    return p;
  };
  return async (ctx) => {
    const match = "metric" in ctx && ctx.metric ? { match: [ctx.metric] } : {};
    switch (ctx.kind) {
      case "metric-or-function": {
        const metrics = await cached("__name__", () => labelValues("__name__"));
        return [...functionSuggestions(), ...metrics.map((m) => ({ text: m, kind: "metric", detail: "" }))];
      }
      case "label-name": {
        const names = await cached(`labels:${ctx.metric}`, () => labelNames(match));
        return names.filter((n) => n !== "__name__").map((n) => ({ text: n, kind: "label", detail: "" }));
      }
      case "label-value": {
        const values = await cached(`values:${ctx.label}:${ctx.metric}`, () => labelValues(ctx.label, match));
        return values.map((v) => ({ text: v, kind: "value", detail: ctx.label }));
      }
    }
  };
}

/** The editor. */
export function PromqlEditor(props: PromqlEditorProps) {
  const { value, onChange, onRun, errorOffset = null, placeholder = "" } = props;
  const input = useRef<HTMLTextAreaElement>(null);
  const pre = useRef<HTMLPreElement>(null);
  const [cursor, setCursor] = useState(value.length);
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<Suggestion[]>([]);
  const [selected, setSelected] = useState(0);
  const load = useSuggestionLoader();
  const ctx = useMemo(() => completionContext(value, Math.min(cursor, value.length)), [value, cursor]);

  useEffect(() => {
    if (!open || ctx.kind === "none") {
      setItems([]);
      return undefined;
    }
    let live = true;
    load(ctx).then((all) => {
      if (!live) return;
      setItems(rank(all, ctx.prefix));
      setSelected(0);
    });
    return () => {
      live = false;
    };
  }, [open, ctx.kind, ctx.kind === "none" ? "" : ctx.prefix, JSON.stringify(ctx)]);

  const syncCursor = () => {
    const el = input.current;
    if (el) setCursor(el.selectionStart ?? value.length);
  };

  const accept = (s: Suggestion) => {
    if (ctx.kind === "none") return;
    let from = ctx.from;
    let to = Math.min(cursor, value.length);
    let text = s.text;
    if (ctx.kind === "label-value") {
      if (ctx.quoted) {
        from -= 1;
        // Consume a closing quote the user (or an earlier completion) already typed.
        if (value.charAt(to) === ctx.quote) to += 1;
      }
      text = quoteLabelValue(s.text, ctx.quote);
    } else if (s.kind === "function" || s.kind === "aggregation") {
      if (value.charAt(to) !== "(") text += "(";
    }
    const next = value.slice(0, from) + text + value.slice(to);
    const caret = from + text.length;
    onChange(next);
    setOpen(false);
    setCursor(caret);
    // The textarea gets its new value on the next render; place the caret after it.
    setTimeout(() => {
      input.current?.focus();
      input.current?.setSelectionRange(caret, caret);
    }, 0);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      setOpen(false);
      onRun();
      return;
    }
    const showing = open && items.length > 0;
    if (showing && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      const n = items.length;
      setSelected((i) => (e.key === "ArrowDown" ? (i + 1) % n : (i - 1 + n) % n));
      return;
    }
    if (showing && (e.key === "Tab" || e.key === "Enter")) {
      const s = items[selected];
      if (s) {
        e.preventDefault();
        accept(s);
      }
      return;
    }
    if (e.key === "Escape") {
      setOpen(false);
      return;
    }
    if (e.key === " " && e.ctrlKey) {
      e.preventDefault();
      setOpen(true);
    }
  };

  const onInput = (e: Event) => {
    const el = e.currentTarget as HTMLTextAreaElement;
    onChange(el.value);
    setCursor(el.selectionStart ?? el.value.length);
    setOpen(true);
  };

  const onScroll = () => {
    if (pre.current && input.current) {
      pre.current.scrollTop = input.current.scrollTop;
      pre.current.scrollLeft = input.current.scrollLeft;
    }
  };

  const rows = Math.min(10, Math.max(2, value.split("\n").length));
  return (
    <div class="promql-editor">
      <div class="pe-box">
        <pre class="pe-highlight" ref={pre} aria-hidden="true">
          <Highlighted text={value} errorOffset={errorOffset} />
          {/* A trailing newline keeps the last line's height when the text ends in one. */}
          {"\n"}
        </pre>
        <textarea
          ref={input}
          class="pe-input"
          value={value}
          rows={rows}
          placeholder={placeholder}
          spellcheck={false}
          autocomplete="off"
          aria-label="PromQL query"
          aria-autocomplete="list"
          aria-expanded={open && items.length > 0}
          onInput={onInput}
          onKeyDown={onKeyDown}
          onKeyUp={(e) => {
            if (e.key.startsWith("Arrow") && !(open && items.length > 0)) syncCursor();
          }}
          onClick={syncCursor}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onScroll={onScroll}
        />
      </div>
      {open && items.length > 0 && (
        <ul class="pe-suggest" role="listbox">
          {items.map((s, i) => (
            <li
              key={`${s.kind}:${s.text}`}
              role="option"
              aria-selected={i === selected}
              class={i === selected ? "pe-item selected" : "pe-item"}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(s);
              }}
            >
              <span class={`pe-kind pe-kind-${s.kind}`}>{s.kind.charAt(0)}</span>
              <span class="pe-text">{s.text}</span>
              {s.detail && <span class="pe-detail">{s.detail}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The text as token spans, with the character at `errorOffset` marked. */
function Highlighted({ text, errorOffset }: { text: string; errorOffset: number | null }) {
  const tokens = useMemo(() => tokenize(text), [text]);
  const out = [];
  for (const t of tokens) {
    const cls = `tok tok-${t.kind}`;
    if (errorOffset !== null && errorOffset >= t.start && errorOffset < t.end) {
      const at = errorOffset - t.start;
      out.push(
        <span key={t.start} class={cls}>
          {t.text.slice(0, at)}
          <mark class="pe-error-mark">{t.text.slice(at, at + 1)}</mark>
          {t.text.slice(at + 1)}
        </span>,
      );
    } else {
      out.push(
        <span key={t.start} class={cls}>
          {t.text}
        </span>,
      );
    }
  }
  if (errorOffset !== null && errorOffset >= text.length) {
    // An error at the end (e.g. unexpected end of input) marks a space after the text.
    out.push(
      <mark key="end" class="pe-error-mark">
        {" "}
      </mark>,
    );
  }
  return <>{out}</>;
}
