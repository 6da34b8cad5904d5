// The dashboard's variable dropdowns (e.g. Project and Service). A choice is written to the URL
// as `var-<name>` (repeated for several values, `$__all` for All), which re-resolves the
// variables and reloads the panels; back/forward restore earlier choices.

import { useEffect, useRef, useState } from "preact/hooks";
import { ALL, urlParamName, type ResolvedVariable } from "../../dashboard/variables";
import { updateParams } from "../../state/url";

/** Most options listed at once (the filter narrows the rest). */
const MAX_LISTED = 500;

/** Text of a selection. */
export function selectionText(v: ResolvedVariable): string {
  if (v.selected.includes(ALL)) return "All";
  if (v.selected.length === 0) return "None";
  const texts = v.selected.map((s) => v.options.find((o) => o.value === s)?.text ?? s);
  return texts.join(" + ");
}

/** The next selection after clicking `value` (ALL for the All entry). */
export function toggleSelection(v: ResolvedVariable, value: string): string[] {
  if (!v.model.multi || value === ALL) return [value];
  const current = v.selected.filter((s) => s !== ALL);
  const next = current.includes(value) ? current.filter((s) => s !== value) : [...current, value];
  if (next.length > 0) return next;
  return v.model.includeAll ? [ALL] : [value];
}

function Dropdown({ v }: { v: ResolvedVariable }) {
  const [open, setOpen] = useState(false);
  const [filter, setFilter] = useState("");
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return undefined;
    const close = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);
  const choose = (value: string) => {
    updateParams({ [urlParamName(v.model.name)]: toggleSelection(v, value) });
    if (!v.model.multi) setOpen(false);
  };
  const f = filter.toLowerCase();
  const shown = v.options.filter((o) => o.text.toLowerCase().includes(f));
  const isOn = (value: string) => v.selected.includes(value);
  return (
    <div class="var-dropdown" ref={box}>
      <button
        type="button"
        class="var-button"
        data-variable={v.model.name}
        onClick={() => setOpen(!open)}
        title={v.error ?? ""}
      >
        {selectionText(v)}
        {v.error ? " ⚠" : ""} ▾
      </button>
      {open && (
        <div class="var-menu">
          <input
            placeholder="Filter"
            value={filter}
            onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)}
          />
          {v.error && <p class="error">{v.error}</p>}
          <ul>
            {v.model.includeAll && (
              <li class={isOn(ALL) ? "on" : ""} onClick={() => choose(ALL)}>
                {v.model.multi && <input type="checkbox" checked={isOn(ALL)} readOnly />}All
              </li>
            )}
            {shown.slice(0, MAX_LISTED).map((o) => (
              <li key={o.value} class={isOn(o.value) ? "on" : ""} onClick={() => choose(o.value)}>
                {v.model.multi && <input type="checkbox" checked={isOn(o.value)} readOnly />}
                {o.text}
              </li>
            ))}
            {shown.length > MAX_LISTED && <li class="muted">… {shown.length - MAX_LISTED} more; type to filter</li>}
            {shown.length === 0 && !v.model.includeAll && <li class="muted">No options</li>}
          </ul>
        </div>
      )}
    </div>
  );
}

/** Props of VariablePicker. */
export interface VariablePickerProps {
  /** Resolved variables, in order. */
  variables: ResolvedVariable[];
}

/** The variable bar. */
export function VariablePicker({ variables }: VariablePickerProps) {
  const shown = variables.filter((v) => v.model.hide < 2 && v.model.type !== "datasource" && v.model.type !== "constant");
  if (shown.length === 0) return null;
  return (
    <div class="var-bar">
      {shown.map((v) => (
        <div key={v.model.name} class="var-item">
          {v.model.hide === 0 && <span class="var-label">{v.model.label || v.model.name}</span>}
          <Dropdown v={v} />
        </div>
      ))}
    </div>
  );
}
