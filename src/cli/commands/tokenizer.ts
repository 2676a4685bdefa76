// nerkit tokenizer train: a BERT WordPiece tokenizer folder trained on the user's own text, so that
// the whole workflow runs offline when no pretrained model can be had. Text comes from CoNLL token
// columns, the texts of span files (JSONL, doccano, Label Studio) or plain text (one text a line).

import { Command } from "commander";
import { NerkitError, SkippedRecord } from "../../errors.js";
import { INPUT_FORMATS, InputFormat, readCorpusFile } from "../../data/corpus.js";
import { readTextFile, splitLines } from "../../io/files.js";
import { BERT_SPECIAL_ORDER, trainBertTokenizer, writeBertFolder } from "../../text/tokenizers/bert-folder.js";
import { CommandIO } from "../io.js";
import { integer, oneOf, reportSkipped } from "../options.js";

const TEXT_FORMATS = [...INPUT_FORMATS, "text"] as const;
type TextFormat = (typeof TEXT_FORMATS)[number];

interface TokenizerTrainOptions {
  data: string[];
  vocabSize: number;
  out: string;
  lowercase?: boolean;
  minFrequency: number;
  limitAlphabet: number;
  from?: TextFormat;
  lenient?: boolean;
}

/** The texts of one file: CoNLL tokens, span documents' texts, or the lines of a plain text file. */
function textsOf(file: string, format: TextFormat | undefined, lenient: boolean, skipped: SkippedRecord[]): string[] {
  if (format === "text" || (format === undefined && /\.txt$/i.test(file))) return splitLines(readTextFile(file));
  const read = readCorpusFile(file, { format: format as InputFormat | undefined, lenient });
  skipped.push(...read.skipped);
  const { corpus } = read;
  return corpus.kind === "tokens" ? corpus.conll.sentences.flatMap((s) => s.tokens) : corpus.documents.map((d) => d.text);
}

function atLeast(name: string, min: number): (value: string) => number {
  const parse = integer(name);
  return (value) => {
    const n = parse(value);
    if (n < min) throw new NerkitError("E_USAGE", `${name} must be at least ${min}, got ${n}`);
    return n;
  };
}

function trainCommand(io: CommandIO): Command {
  return new Command("train")
    .description("train a BERT WordPiece tokenizer (tokenizer.json, vocab.txt, tokenizer_config.json) on your own text")
    .requiredOption("--data <files...>", "training text: CoNLL, JSONL spans, doccano, Label Studio, or .txt (one text a line)")
    .requiredOption("--vocab-size <n>", "tokens in the vocabulary, special tokens included", atLeast("--vocab-size", 1))
    .requiredOption("--out <dir>", "output folder (made if missing)")
    .option("--lowercase", "lowercase and strip accents (an uncased tokenizer)")
    .option("--min-frequency <n>", "merge no pair seen fewer times", atLeast("--min-frequency", 0), 2)
    .option("--limit-alphabet <n>", "keep the n most frequent characters; the others become [UNK]", atLeast("--limit-alphabet", 1), 1000)
    .option("--from <format>", `input format for every file: ${TEXT_FORMATS.join(", ")} (default: from each file name)`, oneOf("--from", TEXT_FORMATS))
    .option("--lenient", "skip bad records of labelled files and count them instead of failing")
    .action((options: TokenizerTrainOptions) => {
      const skipped: SkippedRecord[] = [];
      const texts = options.data.flatMap((file) => textsOf(file, options.from, options.lenient ?? false, skipped));
      reportSkipped(skipped, io.stderr);
      const started = performance.now();
      const trained = trainBertTokenizer(texts, {
        vocabSize: options.vocabSize,
        lowercase: options.lowercase ?? false,
        minFrequency: options.minFrequency,
        limitAlphabet: options.limitAlphabet,
      });
      const seconds = (performance.now() - started) / 1000;
      const paths = writeBertFolder(options.out, trained.files);
      io.stdout(`wrote ${options.out}\n`);
      for (const path of paths) io.stdout(`  ${path}\n`);
      const size = trained.vocab.length;
      io.stdout(
        `vocabulary: ${size} tokens (${BERT_SPECIAL_ORDER.length} special, ` +
          `${trained.alphabetSize} characters, ${trained.continuationCount} "##" continuations, ${trained.merges} merges) ` +
          `from ${trained.wordCount} words (${trained.distinctWords} distinct) in ${seconds.toFixed(1)} s\n`,
      );
      if (size < options.vocabSize) {
        io.stderr(`nerkit: warning: no pair occurs ${options.minFrequency} times or more any longer: the vocabulary has ${size} tokens, fewer than the ${options.vocabSize} asked for (lower --min-frequency or add text)\n`);
      }
      const dropped = trained.droppedChars;
      if (dropped.length > 0) {
        const shown = dropped.slice(0, 20).map((c) => JSON.stringify(c)).join(" ");
        io.stderr(`nerkit: ${dropped.length} rare character${dropped.length === 1 ? "" : "s"} left out by --limit-alphabet ${options.limitAlphabet} (words with them encode as [UNK]): ${shown}${dropped.length > 20 ? " …" : ""}\n`);
      }
    });
}

export function tokenizerCommand(io: CommandIO): Command {
  const output = { writeOut: io.stdout, writeErr: io.stderr };
  // addCommand copies no settings to a subcommand: it gets its own exit override and output, so a
  // usage error in `tokenizer train` comes back to main() as an error, not a process exit.
  return new Command("tokenizer")
    .description("tokenizer tools: `nerkit tokenizer train --data FILES... --vocab-size N --out DIR` builds a WordPiece vocabulary")
    .addCommand(trainCommand(io).exitOverride().configureOutput(output));
}
