// Bundles nerkit/web (dist/src/web/index.js, compiled by tsc first) for the browser with esbuild:
// one ES module, minified, with onnxruntime-web's WASM build inside it (its JavaScript is small;
// bundling it means a page loads one script and needs no import map), written to
// dist/web/nerkit-web.js; onnxruntime-web's .wasm file is copied beside it, where the bundle
// fetches it from (new URL(..., import.meta.url)). Prints the bundle's size, minified and gzipped,
// the .wasm counted apart. Run by `npm run build`; the browser tests run it too (test/web-parity into
// its own temp folder, test/web-export into dist/web, which `nerkit export --web` copies from).

import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The .wasm the WASM build of onnxruntime-web 1.30 loads (SIMD, threads when the page is cross-origin isolated). */
export const ORT_WASM = "ort-wasm-simd-threaded.wasm";
export const BUNDLE = "nerkit-web.js";

/** Bundles into `out` (dist/web by default; a test gives its own folder, so that tests running side by side do not share one). */
export async function buildWeb({ quiet = false, out = join(root, "dist", "web") } = {}) {
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: [join(root, "dist", "src", "web", "index.js")],
    outfile: join(out, BUNDLE),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "eof",
    metafile: true,
    logLevel: "warning",
  });
  const ortDist = dirname(createRequire(import.meta.url).resolve("onnxruntime-web/wasm"));
  copyFileSync(join(ortDist, ORT_WASM), join(out, ORT_WASM));
  const bundle = readFileSync(join(out, BUNDLE));
  const sizes = { minified: bundle.length, gzip: gzipSync(bundle, { level: 9 }).length, wasm: statSync(join(out, ORT_WASM)).size };
  const ort = Object.entries(result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].inputs)
    .filter(([file]) => file.includes("onnxruntime-web"))
    .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
  if (!quiet) {
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    console.log(`${relative(process.cwd(), join(out, BUNDLE))}: ${kb(sizes.minified)} minified, ${kb(sizes.gzip)} gzip (onnxruntime-web's JavaScript ${kb(ort)} of it); ${ORT_WASM} ${(sizes.wasm / 2 ** 20).toFixed(1)} MiB apart`);
  }
  return { dir: out, ...sizes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWeb();
