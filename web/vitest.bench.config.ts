// The UI benchmarks (not part of `make test`): `npm run bench:ui`. They start their own simulator and kiswatch
// (the debug build by default, KISWATCH_BIN for another) and drive Debian's Chromium; see BENCHMARKS.md.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["bench/**/*.bench.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
