// Finds the position an API error points at. tetrad and Prometheus 2.42 word parse errors as
// `1:5: parse error: ...` (line, then 1-based column in UTF-8 bytes); older Prometheus said
// `parse error at line 1, char 5: ...`. Both are read; the column is turned into an offset in
// the JavaScript string (UTF-16), which is what the editor underlines.

/** A located error. */
export interface ErrorPosition {
  /** 1-based line. */
  line: number;
  /** 1-based column, in bytes as the server counts. */
  column: number;
  /** Offset into the query text (UTF-16 units). */
  offset: number;
}

const MODERN = /(?:^|\s|")(\d+):(\d+): parse error/;
const LEGACY = /parse error at line (\d+), char (\d+)/;

/** The position `message` refers to in `query`, or null when it names none. */
export function parseErrorPosition(message: string, query: string): ErrorPosition | null {
  const m = MODERN.exec(message) ?? LEGACY.exec(message);
  if (!m || !m[1] || !m[2]) return null;
  const line = Number(m[1]);
  const column = Number(m[2]);
  if (!Number.isFinite(line) || !Number.isFinite(column) || line < 1 || column < 1) return null;
  return { line, column, offset: offsetOf(query, line, column) };
}

/** Offset of 1-based `line` and byte `column` in `text`, clamped to the text. */
export function offsetOf(text: string, line: number, column: number): number {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", start);
    if (nl === -1) return text.length;
    start = nl + 1;
  }
  let bytes = column - 1;
  let i = start;
  while (bytes > 0 && i < text.length) {
    const cp = text.codePointAt(i) ?? 0;
    bytes -= cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return Math.min(i, text.length);
}
