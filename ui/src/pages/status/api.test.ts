import { describe, expect, it } from "vitest";
import { headTime } from "./api";

describe("headTime", () => {
  it("shows the empty head's sentinels as a dash", () => {
    expect(headTime(9223372036854775807)).toBe("—");
    expect(headTime(-9223372036854775808)).toBe("—");
    expect(headTime(0)).toBe("1970-01-01T00:00:00.000Z");
  });
});
