// Text panel: Markdown rendered to elements (see dashboard/markdown.tsx); `html` and `code`
// modes show the content as plain text — tetrad never inserts HTML from a dashboard.

import { renderMarkdown } from "../../dashboard/markdown";

/** Props of TextPanel. */
export interface TextPanelProps {
  /** `markdown`, `html` or `code`. */
  mode: string;
  /** The content, variables already replaced. */
  content: string;
}

/** A text panel. */
export function TextPanel({ mode, content }: TextPanelProps) {
  if (mode === "markdown") return <div class="text-panel">{renderMarkdown(content)}</div>;
  return (
    <div class="text-panel">
      <pre>{content}</pre>
    </div>
  );
}
