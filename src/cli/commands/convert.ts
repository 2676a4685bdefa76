// nerkit convert: any supported input format to CoNLL (in any scheme) or span JSON lines.

import { Command, Option } from "commander";
import { SkippedRecord } from "../../errors.js";
import { formatConll } from "../../data/conll.js";
import { InputFormat, readCorpusFile, toSpanDocuments, toTokenSentences } from "../../data/corpus.js";
import { SchemeTable, SCHEMES } from "../../data/schemes.js";
import { formatSpanJsonl } from "../../data/span-formats.js";
import { OffsetUnit } from "../../text/offsets.js";
import { CommandIO, emit } from "../io.js";
import { inputFormat, integer, offsetUnit, oneOf, reportSkipped, scheme, warnIfEmpty } from "../options.js";

interface ConvertOptions {
  from?: InputFormat;
  to: "conll" | "jsonl";
  scheme: SchemeTable;
  inputScheme?: SchemeTable;
  tagColumn?: number;
  strict?: boolean;
  lenient?: boolean;
  offsetUnit?: OffsetUnit;
  outputOffsetUnit?: OffsetUnit;
  out?: string;
}

export function convertCommand(io: CommandIO): Command {
  return new Command("convert")
    .description("convert labelled data between CoNLL (IOB1, IOB2, IOE1, IOE2, IOBES, BILOU) and span JSON formats")
    .argument("<input>", "input file")
    .option("--from <format>", "input format: conll, jsonl, doccano, labelstudio (default: from the file name)", inputFormat)
    .option("--to <format>", "output format: conll or jsonl", oneOf("--to", ["conll", "jsonl"] as const), "conll")
    .addOption(new Option("--scheme <scheme>", "tagging scheme of CoNLL output").argParser(scheme).default(SCHEMES.IOB2, "IOB2"))
    .option("--input-scheme <scheme>", "tagging scheme of CoNLL input (default: detected)", scheme)
    .option("--tag-column <n>", "1-based column of the tag in CoNLL input; negative counts from the end", integer("--tag-column"))
    .option("--strict", "reject tag transitions the input scheme does not allow")
    .option("--lenient", "skip bad records and count them instead of failing")
    .option("--offset-unit <unit>", "unit of span offsets in the input: utf16 or codepoint", offsetUnit)
    .option("--output-offset-unit <unit>", "unit of span offsets in JSON lines output: utf16 or codepoint", offsetUnit)
    .option("-o, --out <file>", "output file (default: standard output)")
    .action((input: string, options: ConvertOptions) => {
      const { corpus, skipped } = readCorpusFile(input, {
        format: options.from,
        tagColumn: options.tagColumn,
        scheme: options.inputScheme,
        strict: options.strict && options.inputScheme !== undefined,
        lenient: options.lenient,
        offsetUnit: options.offsetUnit,
      });
      warnIfEmpty(corpus, input, skipped, io.stderr);
      const allSkipped: SkippedRecord[] = [...skipped];
      const output =
        options.to === "conll"
          ? formatConll(toTokenSentences(corpus, options.scheme, { sourceScheme: options.inputScheme, lenient: options.lenient, skipped: allSkipped }), { source: input })
          : formatSpanJsonl(toSpanDocuments(corpus, { sourceScheme: options.inputScheme }), options.outputOffsetUnit);
      emit(io, output, options.out);
      reportSkipped(allSkipped, io.stderr);
    });
}
