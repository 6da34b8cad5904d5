// Vite builds the UI into `TETRAD_UI_OUT_DIR` (set by crates/api/build.rs to `$OUT_DIR/ui`) or
// `dist/` for a manual `npm run build`. JSX is compiled by esbuild for Preact directly, so no
// framework plug-in is needed.
import { defineConfig } from "vitest/config";

const outDir = process.env["TETRAD_UI_OUT_DIR"] ?? "dist";

export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev` talks to a local tetrad for the APIs.
    proxy: { "/api": "http://127.0.0.1:3000" },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
