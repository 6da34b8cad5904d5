// Browser tests (e2e/*.e2e.ts): a real tetrad and headless Chromium; run with `npm run e2e`.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // One tetrad for all tests of the file; files never run at once.
    fileParallelism: false,
  },
});
