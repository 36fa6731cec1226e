// Writes src/api-types.ts, the web UI's types of the service's JSON, from the service's OpenAPI document
// (the reviewed snapshot the kiswatch tests keep equal to what `GET /api/openapi.json` serves).
//
//   node scripts/api-types.mjs           (npm run gen:api)   writes src/api-types.ts
//   node scripts/api-types.mjs --check   (npm run lint)      fails when the committed file differs from a fresh one
/* global process, console */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const spec = join(web, "..", "crates", "kiswatch", "tests", "snapshots", "openapi.json");
const target = join(web, "src", "api-types.ts");
const cli = join(web, "node_modules", "openapi-typescript", "bin", "cli.js");

function generate(out) {
  execFileSync(process.execPath, [cli, spec, "--output", out], { cwd: web, stdio: ["ignore", "ignore", "inherit"] });
}

if (process.argv.includes("--check")) {
  const dir = mkdtempSync(join(tmpdir(), "kiswatch-api-types-"));
  try {
    const fresh = join(dir, "api-types.ts");
    generate(fresh);
    let committed = null;
    try {
      committed = readFileSync(target, "utf8");
    } catch {
      // Missing: reported below.
    }
    if (committed !== readFileSync(fresh, "utf8")) {
      console.error(
        "web/src/api-types.ts is not what crates/kiswatch/tests/snapshots/openapi.json generates.\n" +
          "The API changed (or the file was edited by hand): run `cd web && npm run gen:api` and commit src/api-types.ts.",
      );
      process.exit(1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  generate(target);
}
