// End-to-end tests: a real kiswatch binary (demo simulator) and Debian's Chromium driven by playwright-core.
// They run one file at a time: each file starts its own kiswatch, and the machine has two cores.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
