// nerkit stats: what a labelled file holds (sentences, tokens, entities per type, lengths).

import { Command } from "commander";
import { InputFormat, readCorpusFile, schemeOf, toTokenSentences } from "../../data/corpus.js";
import { SchemeTable, SCHEMES } from "../../data/schemes.js";
import { corpusStats, formatStats, statsJson } from "../../data/stats.js";
import { OffsetUnit } from "../../text/offsets.js";
import { CommandIO, emit } from "../io.js";
import { inputFormat, integer, offsetUnit, oneOf, reportSkipped, scheme, warnIfEmpty } from "../options.js";

interface StatsOptions {
  from?: InputFormat;
  scheme?: SchemeTable;
  tagColumn?: number;
  lenient?: boolean;
  offsetUnit?: OffsetUnit;
  format: "text" | "json";
  out?: string;
}

export function statsCommand(io: CommandIO): Command {
  return new Command("stats")
    .description("count sentences, tokens and entities per type, with entity and sentence length distributions")
    .argument("<file>", "labelled file (CoNLL or span JSON)")
    .option("--from <format>", "input format: conll, jsonl, doccano, labelstudio (default: from the file name)", inputFormat)
    .option("--scheme <scheme>", "tagging scheme of CoNLL input (default: detected)", scheme)
    .option("--tag-column <n>", "1-based column of the tag in CoNLL input; negative counts from the end", integer("--tag-column"))
    .option("--lenient", "skip bad records and count them instead of failing")
    .option("--offset-unit <unit>", "unit of span offsets in the input: utf16 or codepoint", offsetUnit)
    .option("--format <format>", "text or json", oneOf("--format", ["text", "json"] as const), "text")
    .option("-o, --out <file>", "output file (default: standard output)")
    .action((file: string, options: StatsOptions) => {
      const { corpus, skipped } = readCorpusFile(file, {
        format: options.from,
        scheme: options.scheme,
        tagColumn: options.tagColumn,
        lenient: options.lenient,
        offsetUnit: options.offsetUnit,
      });
      const source = schemeOf(corpus, options.scheme) ?? SCHEMES.IOB2;
      const sentences = corpus.kind === "tokens" ? corpus.conll.sentences : toTokenSentences(corpus, source, { lenient: options.lenient, skipped }).sentences;
      const stats = corpusStats(sentences, source);
      warnIfEmpty(corpus, file, skipped, io.stderr);
      emit(io, options.format === "json" ? JSON.stringify(statsJson(stats), null, 2) + "\n" : formatStats(stats), options.out);
      reportSkipped(skipped, io.stderr);
    });
}
