// `nerkit export --web`: a static folder a person opens from any static server to tag and redact
// text in the browser, offline: the page (web/index.html, page.js, page.css from the package), the
// nerkit/web bundle and onnxruntime-web's .wasm (dist/web, made by `npm run build`) and the model,
// exported into model/ without its safetensors weights (the page runs the ONNX graph only). Left
// out: serving the folder (file:// pages cannot fetch, so any static server will do).

import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { NerkitError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { ExportOptions, ExportResult, exportModel } from "../model/export/export-model.js";

/** The page's own files, from the package's web/ folder. */
const PAGE_FILES = ["index.html", "page.js", "page.css"];
/** The bundle and the runtime's .wasm, from dist/web (scripts/build-web.mjs). */
const BUNDLE_FILES = ["nerkit-web.js", "ort-wasm-simd-threaded.wasm"];

export interface WebFolderResult {
  dir: string;
  /** Every file written, relative to `dir`: the page, the bundle, then the model's under model/. */
  files: string[];
  model: ExportResult;
}

export function writeWebFolder(modelDir: string, outDir: string, options: Omit<ExportOptions, "safetensors"> = {}): WebFolderResult {
  const sources = [...PAGE_FILES.map((name) => join(packageRoot, "web", name)), ...BUNDLE_FILES.map((name) => join(packageRoot, "dist", "web", name))];
  const missing = sources.find((file) => !existsSync(file));
  if (missing) throw new NerkitError("E_IO", "a file of the web page is missing from the nerkit package (run `npm run build`, which bundles dist/web)", { file: missing });
  const dir = resolve(outDir);
  const model = exportModel(modelDir, join(dir, "model"), { ...options, safetensors: false });
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const source of sources) {
    const name = source.split(/[\\/]/).pop() as string;
    copyFileSync(source, join(dir, name));
    files.push(name);
  }
  return { dir, files: [...files, ...model.files.map((file) => `model/${file}`)], model };
}
