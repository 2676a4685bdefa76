// The size of nerkit/web's bundle (issue 14 §4: minified + gzip ≤ 250 KB, onnxruntime-web's .wasm
// counted apart), as scripts/build-web.mjs builds it into a temp folder; and the figure the README
// gives (146 KB minified, 50 KB gzip) within a few KB, so that the README cannot drift from the build.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot, tempDir } from "./helpers.js";

test("nerkit/web bundle: ≤ 250 KB minified + gzip, the .wasm apart; the README's figures match the build", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { buildWeb } = await import(pathToFileURL(join(repoRoot, "scripts", "build-web.mjs")).href);
  const sizes = (await buildWeb({ quiet: true, out: dir })) as { minified: number; gzip: number; wasm: number };
  assert.ok(sizes.gzip <= 250 * 1024, `gzip ${sizes.gzip} bytes`);
  assert.ok(sizes.wasm > 1024 * 1024, "the .wasm is copied beside the bundle, not inside it");
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const stated = /(\d+) KB minified, (\d+) KB gzip/.exec(readme);
  assert.ok(stated, "the README states the bundle's size");
  assert.ok(Math.abs(Number(stated[1]) - sizes.minified / 1024) < 4, `README ${stated[1]} KB minified, built ${(sizes.minified / 1024).toFixed(1)} KB`);
  assert.ok(Math.abs(Number(stated[2]) - sizes.gzip / 1024) < 2, `README ${stated[2]} KB gzip, built ${(sizes.gzip / 1024).toFixed(1)} KB`);
});
