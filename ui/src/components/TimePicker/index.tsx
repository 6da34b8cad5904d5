// The time picker: quick ranges, absolute from/to inputs, zoom out, refresh and auto-refresh.
// It reads and writes only the URL (`from`, `to`, `refresh`), so back/forward move through
// earlier ranges.

import { useState } from "preact/hooks";
import { refreshNow, setRefresh, setTimeRange, useTimeRange } from "../../hooks/useTimeRange";
import { describeRange, parseTime, QUICK_RANGES, REFRESH_CHOICES } from "../../state/time";

/** Formats epoch ms for a `datetime-local`-like text input (UTC, ISO without the zone). */
function toInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** Reads an input: Grafana relative syntax, epoch ms, or `YYYY-MM-DD HH:MM:SS` in UTC. */
function fromInput(text: string): string | null {
  const t = text.trim();
  if (t.startsWith("now") || /^\d+$/.test(t)) return parseTime(t, Date.now()) === null ? null : t;
  const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/.test(t) ? `${t.replace(" ", "T")}Z` : t;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : String(ms);
}

/** The time picker. */
export function TimePicker() {
  const { raw, range, refresh } = useTimeRange();
  const [open, setOpen] = useState(false);
  const [fromText, setFromText] = useState("");
  const [toText, setToText] = useState("");
  const [inputError, setInputError] = useState("");

  const openPanel = () => {
    setFromText(raw.from.startsWith("now") ? raw.from : toInput(range.start));
    setToText(raw.to.startsWith("now") ? raw.to : toInput(range.end));
    setInputError("");
    setOpen(!open);
  };

  const apply = (e: Event) => {
    e.preventDefault();
    const from = fromInput(fromText);
    const to = fromInput(toText);
    if (from === null || to === null) {
      setInputError(`cannot read ${from === null ? "from" : "to"}: use now-1h, epoch ms or YYYY-MM-DD HH:MM:SS (UTC)`);
      return;
    }
    setTimeRange({ from, to });
    setOpen(false);
  };

  const zoomOut = () => {
    const span = range.end - range.start;
    const end = Math.min(range.end + span / 2, Date.now());
    setTimeRange({ from: String(Math.round(end - span * 2)), to: String(Math.round(end)) });
  };

  return (
    <div class="time-picker">
      <button type="button" class="tp-range" onClick={openPanel} title="Change the time range">
        {describeRange(raw)}
      </button>
      <button type="button" onClick={zoomOut} title="Zoom out (twice the range)">
        −
      </button>
      <button type="button" onClick={() => refreshNow()} title="Refresh now">
        ↻
      </button>
      <select
        value={refresh}
        title="Auto-refresh"
        onChange={(e) => setRefresh((e.currentTarget as HTMLSelectElement).value)}
      >
        {REFRESH_CHOICES.map((r) => (
          <option key={r} value={r}>
            {r === "" ? "Off" : r}
          </option>
        ))}
      </select>
      {open && (
        <div class="tp-panel">
          <form class="tp-absolute" onSubmit={apply}>
            <label>
              From
              <input value={fromText} onInput={(e) => setFromText((e.currentTarget as HTMLInputElement).value)} />
            </label>
            <label>
              To
              <input value={toText} onInput={(e) => setToText((e.currentTarget as HTMLInputElement).value)} />
            </label>
            <button type="submit">Apply</button>
            {inputError && <p class="error">{inputError}</p>}
          </form>
          <ul class="tp-quick">
            {QUICK_RANGES.map((q) => (
              <li key={q.from}>
                <button
                  type="button"
                  class={raw.from === q.from && raw.to === "now" ? "active" : ""}
                  onClick={() => {
                    setTimeRange({ from: q.from, to: "now" });
                    setOpen(false);
                  }}
                >
                  {q.label}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
