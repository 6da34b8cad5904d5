import { describe, expect, it } from "vitest";
import { HISTORY_KEY, HISTORY_SIZE, loadHistory, pushHistory, saveHistory, type KeyValueStore } from "./history";

function memoryStore(init: Record<string, string> = {}): KeyValueStore & { data: Record<string, string> } {
  const data = { ...init };
  return {
    data,
    getItem: (k) => data[k] ?? null,
    setItem: (k, v) => {
      data[k] = v;
    },
  };
}

describe("history", () => {
  it("puts the newest first and moves a repeated query to the front", () => {
    let h: string[] = [];
    h = pushHistory(h, "up");
    h = pushHistory(h, "rate(x[5m])");
    h = pushHistory(h, " up ");
    expect(h).toEqual(["up", "rate(x[5m])"]);
    expect(pushHistory(h, "   ")).toEqual(h);
  });

  it("keeps only the last 50", () => {
    let h: string[] = [];
    for (let i = 0; i < 60; i++) h = pushHistory(h, `q${i}`);
    expect(h).toHaveLength(HISTORY_SIZE);
    expect(h[0]).toBe("q59");
    expect(h[HISTORY_SIZE - 1]).toBe("q10");
  });

  it("round-trips through storage and survives garbage", () => {
    const s = memoryStore();
    saveHistory(s, ["a", "b"]);
    expect(loadHistory(s)).toEqual(["a", "b"]);
    expect(loadHistory(memoryStore({ [HISTORY_KEY]: "{not json" }))).toEqual([]);
    expect(loadHistory(memoryStore({ [HISTORY_KEY]: '["a", 3, null, "b"]' }))).toEqual(["a", "b"]);
    expect(loadHistory(undefined)).toEqual([]);
    const failing: KeyValueStore = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("quota");
      },
    };
    expect(loadHistory(failing)).toEqual([]);
    expect(() => saveHistory(failing, ["a"])).not.toThrow();
  });
});
