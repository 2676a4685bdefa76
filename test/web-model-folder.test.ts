// How nerkit/web finds a model folder's files (src/web/model-folder.ts), in Node with stand-ins for
// the browser's File and fetch: files from a directory picker by their path inside the folder
// (the folder's own name dropped), files picked alone by their name, and a base URL's answers (404:
// no such file; another failure: an E_IO error naming the URL). The loading itself runs in
// Chromium (test/web-parity.test.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { NerkitError } from "../src/errors.js";
import { PickedFile, modelFolder } from "../src/web/model-folder.js";

const picked = (path: string, text: string, name = path.split("/").pop() as string): PickedFile => ({
  name,
  webkitRelativePath: path.includes("/") ? path : "",
  arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer,
});
const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));

test("a directory pick: files by their path inside the folder, named in errors with the folder's name", async () => {
  const folder = modelFolder([picked("my-ner/config.json", "{}"), picked("my-ner/onnx/model.onnx", "graph"), picked("my-ner/tokenizer.json", "tok")]);
  assert.equal(folder.name, "my-ner");
  assert.equal(text(await folder.read("onnx/model.onnx")), "graph");
  assert.equal(text(await folder.read("tokenizer.json")), "tok");
  assert.equal(await folder.read("calibration.json"), undefined);
  assert.equal(folder.path("onnx/model.onnx"), "my-ner/onnx/model.onnx");
  assert.equal(folder.path("vocab.txt"), "my-ner/vocab.txt");
});

test("files picked alone: found by name, also for a path under onnx/; two files of one name are not guessed between", async () => {
  const folder = modelFolder([picked("config.json", "{}"), picked("model.onnx", "graph")]);
  assert.equal(text(await folder.read("onnx/model.onnx")), "graph");
  assert.equal(text(await folder.read("config.json")), "{}");
  const twice = modelFolder([picked("a/onnx/model.onnx", "one"), picked("a/model.onnx", "two")]);
  assert.equal(text(await twice.read("onnx/model.onnx")), "one");
  assert.equal(text(await twice.read("model.onnx")), "two");
  assert.equal(await twice.read("other/model.onnx"), undefined);
});

test("a base URL: files fetched under it; 404 is an absent file, another status or a failed fetch an E_IO error naming the URL", async () => {
  const asked: string[] = [];
  const answers = new Map<string, number>([
    ["https://example.test/m/config.json", 200],
    ["https://example.test/m/broken.json", 500],
  ]);
  const fetchFile = async (url: string) => {
    asked.push(url);
    if (url.endsWith("offline.json")) throw new TypeError("Failed to fetch");
    const status = answers.get(url) ?? 404;
    return { ok: status === 200, status, arrayBuffer: async () => new TextEncoder().encode("{}").buffer as ArrayBuffer };
  };
  const folder = modelFolder("https://example.test/m", fetchFile);
  assert.equal(text(await folder.read("config.json")), "{}");
  assert.equal(await folder.read("calibration.json"), undefined);
  await assert.rejects(folder.read("broken.json"), (e: unknown) => e instanceof NerkitError && e.code === "E_IO" && e.file === "https://example.test/m/broken.json" && /500/.test(e.message));
  await assert.rejects(folder.read("offline.json"), (e: unknown) => e instanceof NerkitError && e.code === "E_IO" && /Failed to fetch/.test(e.message));
  assert.deepEqual(asked, ["https://example.test/m/config.json", "https://example.test/m/calibration.json", "https://example.test/m/broken.json", "https://example.test/m/offline.json"]);
});
