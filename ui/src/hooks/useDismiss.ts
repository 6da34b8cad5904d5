// Closes a popup on a click outside it or on Escape.

import type { RefObject } from "preact";
import { useEffect } from "preact/hooks";

/** Calls `close` while `open` when the user clicks outside `box` or presses Escape. */
export function useDismiss(open: boolean, box: RefObject<HTMLElement>, close: () => void): void {
  useEffect(() => {
    if (!open) return undefined;
    const onMouse = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) close();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") close();
    };
    document.addEventListener("mousedown", onMouse);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onMouse);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);
}
