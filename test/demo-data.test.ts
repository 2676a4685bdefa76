// The demo corpus quickstart trains on (examples/demo): made by make-demo.mjs, deterministically
// (the committed files are what the script writes), rich enough to learn from (thousands of
// distinct words), with dev names partly unseen in training, and showcase sentences whose names
// occur nowhere in the training data, so that quickstart's predictions show generalisation.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseConll } from "../src/data/conll.js";
import { repoRoot, tempDir } from "./helpers.js";

const demo = join(repoRoot, "examples", "demo");
const read = (name: string) => readFileSync(join(demo, name), "utf8");

/** The tokens of a CoNLL file, and its entities as "TYPE text". */
function contents(name: string): { tokens: string[]; entities: string[] } {
  const tokens: string[] = [];
  const entities: string[] = [];
  for (const line of read(name).split("\n")) {
    const [token, tag] = line.split(" ");
    if (!tag || token === "-DOCSTART-") continue;
    tokens.push(token);
    if (tag.startsWith("B-")) entities.push(`${tag.slice(2)} ${token}`);
    else if (tag.startsWith("I-")) entities[entities.length - 1] += ` ${token}`;
  }
  return { tokens, entities };
}

test("make-demo.mjs writes exactly the committed files", () => {
  const out = tempDir();
  const run = spawnSync(process.execPath, [join(demo, "make-demo.mjs"), out], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  for (const name of ["train.conll", "dev.conll", "test.conll", "showcase.txt"]) assert.ok(readFileSync(join(out, name), "utf8") === read(name), `${name} differs from what make-demo.mjs writes`);
});

test("the demo corpus: valid CoNLL, thousands of distinct words, four types, dev names partly unseen in training", () => {
  for (const name of ["train.conll", "dev.conll", "test.conll"]) parseConll(read(name), { file: name });
  const train = contents("train.conll");
  const dev = contents("dev.conll");
  assert.ok(new Set(train.tokens).size >= 3000, `${new Set(train.tokens).size} distinct words in train.conll`);
  assert.deepEqual([...new Set(train.entities.map((e) => e.split(" ")[0]))].sort(), ["LOC", "MISC", "ORG", "PER"]);
  const seen = new Set(train.entities);
  const unseen = dev.entities.filter((e) => !seen.has(e)).length / dev.entities.length;
  assert.ok(unseen >= 0.2 && unseen <= 0.6, `${(unseen * 100).toFixed(1)}% of dev entities unseen in training`);
});

test("the showcase sentences' names occur nowhere in train.conll", () => {
  const names = ["Marisol", "Quennby", "Ostravik", "Belharra", "Glimmerwood", "Trevanion", "Oyelaran", "Pettigrew", "Castelmare", "Halvorsen", "Zanthorian"];
  const showcase = read("showcase.txt");
  const trainTokens = new Set(contents("train.conll").tokens);
  for (const name of names) {
    assert.ok(showcase.split(/\s+/).includes(name), `${name} is in showcase.txt`);
    assert.ok(!trainTokens.has(name), `${name} occurs in train.conll`);
  }
});
