#!/usr/bin/env node
// Writes the benchmark's input files: for each CoNLL-2003 split in the shared seqeval fixture
// ("real" in fixtures/seqeval/cases.json), OUTDIR/<split>.gold.conll (tokens and gold tags from
// the shared data) and OUTDIR/<split>.pred.conll (the same tokens with the fixture's predicted
// tags). Both keep the source's -DOCSTART- and blank lines where they were, so `nerkit evaluate`
// and bench/seqeval_reference.py read identical sentences.
// Leaves out: any scoring, and any split not in the fixture.
//
// Usage: node bench/make-pred-files.mjs OUTDIR
// Shared folder: $NERKIT_SHARED, or <repo>/../shared.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const shared = resolve(process.env.NERKIT_SHARED ?? join(repoRoot, "..", "shared"));

function fail(message) {
  process.stderr.write(`make-pred-files: ${message}\n`);
  process.exit(1);
}

// Rewrites a CoNLL file line by line: blank and -DOCSTART- lines are copied, token lines become
// "TOKEN TAG" with the tag from tagsFor(sentence, position). A sentence is a run of token lines
// ended by a blank line or the end of the file; -DOCSTART- lines inside a run do not end it,
// the same rule the readers use.
function rewrite(lines, tagsFor) {
  const out = [];
  let sentence = 0;
  let position = 0;
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (line.trim() === "") {
      if (position > 0) {
        sentence += 1;
        position = 0;
      }
      out.push("");
    } else if (fields[0] === "-DOCSTART-") {
      out.push(line);
    } else {
      out.push(`${fields[0]} ${tagsFor(sentence, position, fields)}`);
      position += 1;
    }
  }
  if (position > 0) sentence += 1;
  return { text: out.join("\n") + "\n", sentences: sentence };
}

// Sentence lengths as the readers see them, for the count check.
function sentenceLengths(lines) {
  const lengths = [];
  let n = 0;
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (line.trim() === "") {
      if (n > 0) lengths.push(n);
      n = 0;
    } else if (fields[0] !== "-DOCSTART-") {
      n += 1;
    }
  }
  if (n > 0) lengths.push(n);
  return lengths;
}

const outDir = process.argv[2];
if (!outDir || process.argv.length > 3) {
  process.stderr.write("usage: node bench/make-pred-files.mjs OUTDIR\n");
  process.exit(2);
}

const casesPath = join(shared, "fixtures", "seqeval", "cases.json");
let cases;
try {
  cases = JSON.parse(readFileSync(casesPath, "utf8"));
} catch (err) {
  fail(`cannot read ${casesPath}: ${err.message} (set NERKIT_SHARED to the shared folder)`);
}
if (!Array.isArray(cases.real) || cases.real.length === 0) fail(`${casesPath} has no "real" entries`);

mkdirSync(outDir, { recursive: true });
const written = new Set();
for (const entry of cases.real) {
  const split = basename(entry.file, extname(entry.file)); // "conll2003/test.conll" -> "test"
  if (written.has(split)) fail(`two "real" entries would both write ${split}.*.conll`);
  written.add(split);

  const dataPath = join(shared, "data", entry.file);
  const lines = readFileSync(dataPath, "utf8").replace(/\r\n?/g, "\n").replace(/\n$/, "").split("\n");
  const lengths = sentenceLengths(lines);
  const pred = entry.pred_tags;
  if (lengths.length !== pred.length) {
    fail(`${entry.file}: ${lengths.length} sentences in the data, ${pred.length} in the fixture's pred_tags`);
  }
  lengths.forEach((n, i) => {
    if (pred[i].length !== n) fail(`${entry.file}: sentence ${i + 1} has ${n} tokens, pred_tags has ${pred[i].length}`);
  });

  const gold = rewrite(lines, (_s, _p, fields) => fields[fields.length - 1]);
  const predicted = rewrite(lines, (s, p) => pred[s][p]);
  const goldPath = join(outDir, `${split}.gold.conll`);
  const predPath = join(outDir, `${split}.pred.conll`);
  writeFileSync(goldPath, gold.text);
  writeFileSync(predPath, predicted.text);
  const tokens = lengths.reduce((a, b) => a + b, 0);
  process.stdout.write(
    `${split}: ${gold.sentences} sentences (fixture ${pred.length}), ${tokens} tokens -> ${goldPath}, ${predPath}\n`,
  );
}
