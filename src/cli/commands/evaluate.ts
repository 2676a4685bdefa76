// nerkit evaluate: entity-level scores identical to seqeval, as text, JSON, conlleval or HTML.

import { Command } from "commander";
import { NerkitError } from "../../errors.js";
import { SchemeTable } from "../../data/schemes.js";
import { classificationReport } from "../../metrics/classification-report.js";
import { conllevalReport } from "../../metrics/conlleval-report.js";
import { EvaluationMode } from "../../metrics/entity-counts.js";
import { FileEvaluation, evaluateFiles, illegalTransitionWarning } from "../../metrics/evaluate-files.js";
import { confusion } from "../../metrics/confusion.js";
import { htmlReport } from "../../metrics/html-report.js";
import { reportJson } from "../../metrics/seqeval.js";
import { CommandIO, emit } from "../io.js";
import { integer, oneOf, reportSkipped, scheme } from "../options.js";

interface EvaluateCommandOptions {
  gold: string;
  pred?: string;
  predColumn?: number | true;
  tagColumn?: number;
  mode: EvaluationMode;
  scheme?: SchemeTable;
  format: "text" | "json" | "html" | "conlleval";
  digits: number;
  lenient?: boolean;
  checkScheme?: boolean;
  out?: string;
}

/** Strict mode scores gold tags that break the scheme as seqeval does; the user hears about them. */
function warnIllegalGoldTransitions(result: FileEvaluation, io: CommandIO): void {
  const warning = illegalTransitionWarning(result);
  if (warning) io.stderr(`nerkit: warning: ${warning}\n`);
}

export function evaluateCommand(io: CommandIO): Command {
  return new Command("evaluate")
    .description("entity-level precision, recall and F1, identical to seqeval (default and strict modes)")
    .requiredOption("--gold <file>", "CoNLL file with the gold tags")
    .option("--pred <file>", "CoNLL file with the predicted tags, same tokens as --gold")
    .option("--pred-column [n]", "predictions are in column n of the gold file (default: last; gold tags then in the column before)", integer("--pred-column"))
    .option("--tag-column <n>", "1-based column of the gold tags; negative counts from the end", integer("--tag-column"))
    .option("--mode <mode>", "default (seqeval's default, conlleval-compatible) or strict (seqeval's mode='strict')", oneOf("--mode", ["default", "strict"] as const), "default")
    .option("--scheme <scheme>", "scheme for strict mode: IOB1, IOB2, IOE1, IOE2, IOBES, BILOU (default: detected from the gold tags)", scheme)
    .option("--format <format>", "text (seqeval's classification_report), json, html or conlleval", oneOf("--format", ["text", "json", "html", "conlleval"] as const), "text")
    .option("--digits <n>", "decimals in the text report", integer("--digits"), 2)
    .option("--lenient", "skip bad sentences (in both files) and count them instead of failing")
    .option("--check-scheme", "strict mode: gold tags with a transition the scheme does not allow are an error (with --lenient: their sentence is skipped) instead of a warning")
    .option("-o, --out <file>", "output file (default: standard output)")
    .action((options: EvaluateCommandOptions) => {
      if (options.pred !== undefined && options.predColumn !== undefined) {
        throw new NerkitError("E_USAGE", "give either --pred FILE or --pred-column, not both");
      }
      if (options.pred === undefined && options.predColumn === undefined) {
        throw new NerkitError("E_USAGE", "give the predictions: --pred FILE, or --pred-column when the gold file holds them");
      }
      if (options.checkScheme && options.mode !== "strict") throw new NerkitError("E_USAGE", "--check-scheme applies to --mode strict");
      const result = evaluateFiles({
        gold: options.gold,
        pred: options.pred,
        predColumn: options.predColumn === true ? undefined : options.predColumn,
        tagColumn: options.tagColumn,
        mode: options.mode,
        scheme: options.scheme,
        lenient: options.lenient,
        checkScheme: options.checkScheme,
      });
      warnIllegalGoldTransitions(result, io);
      let output: string;
      switch (options.format) {
        case "json":
          output = JSON.stringify(reportJson(result.report), null, 2) + "\n";
          break;
        case "conlleval":
          output = conllevalReport(result.counts);
          break;
        case "html":
          output = htmlReport({
            report: result.report,
            confusion: confusion(result.gold, result.pred, { mode: options.mode, scheme: result.scheme }),
            description: `${options.gold} against ${options.pred ?? "its prediction column"}, ${options.mode} mode${result.scheme ? ` (${result.scheme.name})` : ""}`,
          });
          break;
        default:
          output = classificationReport(result.report, options.digits);
      }
      emit(io, output, options.out);
      reportSkipped(result.skipped, io.stderr);
    });
}
