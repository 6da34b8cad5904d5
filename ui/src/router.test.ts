import { describe, expect, it } from "vitest";
import { matchRoute } from "./router";

describe("routes", () => {
  it("matches every page", () => {
    expect(matchRoute("/")).toEqual({ name: "home" });
    expect(matchRoute("/d/service")).toEqual({ name: "dashboard", uid: "service" });
    expect(matchRoute("/d/service/fastapi-observability")).toEqual({ name: "dashboard", uid: "service" });
    expect(matchRoute("/d/a%20b")).toEqual({ name: "dashboard", uid: "a b" });
    expect(matchRoute("/explore/")).toEqual({ name: "explore" });
    expect(matchRoute("/targets").name).toBe("targets");
    expect(matchRoute("/pipeline").name).toBe("pipeline");
    expect(matchRoute("/status").name).toBe("status");
    expect(matchRoute("/nope")).toEqual({ name: "not-found", path: "/nope" });
    expect(matchRoute("/d/%E0%A4%A")).toEqual({ name: "dashboard", uid: "%E0%A4%A" });
  });
});
