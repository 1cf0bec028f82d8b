/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the dashboard with hot reload and forwards everything the API
// answers to a running `storeplane serve` (STOREPLANE_URL, default http://127.0.0.1:8080).
const api = process.env.STOREPLANE_URL ?? "http://127.0.0.1:8080";
const proxied = ["/api", "/login", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"];

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  server: {
    proxy: Object.fromEntries(proxied.map((path) => [path, { target: api, changeOrigin: false }])),
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The bundle is committed and embedded in the binary: keep it small and free of
    // source maps so a rebuild from the same sources gives the same bytes.
    sourcemap: false,
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./vitest.setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
