// Vite builds the UI into `dist/`, which the kiswatch binary embeds. `npm run dev` proxies the API and the
// WebSocket to a kiswatch running on its default address.
import { defineConfig } from "vitest/config";

const target = process.env.KISWATCH_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": { target, changeOrigin: false, ws: true },
      "/sim": { target },
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
