// nerkit evaluate: entity-level scores identical to seqeval, as text, JSON, conlleval or HTML, of
// predictions in CoNLL files (--gold with --pred or --pred-column), or of a model on labelled data
// (--model with --data: the model tags the file's words, ../../train/evaluate-file.ts). With
// --model the scores' calibration quality is added: entity-level ECE with its reliability table, of
// the raw scores and, when the model folder has calibration.json, of the calibrated ones (in JSON
// and HTML; the text report's seqeval table stays as it is, with one ECE line on stderr).

import { Command } from "commander";
import { NerkitError } from "../../errors.js";
import { SchemeTable } from "../../data/schemes.js";
import { classificationReport } from "../../metrics/classification-report.js";
import { conllevalReport } from "../../metrics/conlleval-report.js";
import { EvaluationMode } from "../../metrics/entity-counts.js";
import { FileEvaluation, evaluateFiles, illegalTransitionWarning } from "../../metrics/evaluate-files.js";
import { confusion } from "../../metrics/confusion.js";
import { htmlReport } from "../../metrics/html-report.js";
import { CalibrationEvaluation, calibrationEvaluation, calibrationEvaluationJson, calibrationLine } from "../../metrics/calibration/evaluation.js";
import { readModelCalibration } from "../../model/checkpoint/calibration.js";
import { reportJson } from "../../metrics/seqeval.js";
import { evaluateModelOnData, readLabelledData } from "../../train/evaluate-file.js";
import { Quantization } from "../../model/export/export-model.js";
import { isDirectory, writeFileAtomic } from "../../io/files.js";
import { ProgressBar } from "../progress-bar.js";
import { CommandIO, emit } from "../io.js";
import { integer, oneOf, quantizeOption, reportSkipped, scheme } from "../options.js";
import { openPipeline } from "./predict.js";

interface EvaluateCommandOptions {
  gold?: string;
  model?: string;
  data?: string;
  batchSize: number;
  maxLength?: number;
  quantize?: Quantization;
  threads?: number;
  revision?: string;
  pred?: string;
  predColumn?: number | true;
  tagColumn?: number;
  mode: EvaluationMode;
  scheme?: SchemeTable;
  format: "text" | "json" | "html" | "conlleval";
  digits?: number;
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
    .description("entity-level precision, recall and F1, identical to seqeval (default and strict modes), of CoNLL predictions (--gold with --pred or --pred-column) or of a model on labelled data (--model with --data)")
    .option("--gold <file>", "CoNLL file with the gold tags")
    .option("--pred <file>", "CoNLL file with the predicted tags, same tokens as --gold")
    .option("--pred-column [n]", "predictions are in column n of the gold file (default: last; gold tags then in the column before)", integer("--pred-column"))
    .option("--tag-column <n>", "1-based column of the gold tags; negative counts from the end", integer("--tag-column"))
    .option("--mode <mode>", "default (seqeval's default, conlleval-compatible) or strict (seqeval's mode='strict')", oneOf("--mode", ["default", "strict"] as const), "default")
    .option("--scheme <scheme>", "scheme for strict mode: IOB1, IOB2, IOE1, IOE2, IOBES, BILOU (default: detected from the gold tags)", scheme)
    .option("--format <format>", "text (seqeval's classification_report), json, html or conlleval", oneOf("--format", ["text", "json", "html", "conlleval"] as const), "text")
    .option("--digits <n>", "decimals in the text report (default 2, as seqeval's classification_report; 4 with --model, as train --test prints)", integer("--digits"))
    .option("--lenient", "skip bad sentences (in both files) and count them instead of failing")
    .option("--check-scheme", "strict mode: gold tags with a transition the scheme does not allow are an error (with --lenient: their sentence is skipped) instead of a warning")
    .option("--model <dir|hub-id>", "score this model on --data instead (checkpoint folder or Hugging Face id)")
    .option("--data <file>", "with --model: labelled data in any format train reads (CoNLL, JSONL spans, doccano, Label Studio)")
    .option("--batch-size <n>", "with --model: windows per model run (sorted by length, padded per batch)", integer("--batch-size"), 32)
    .option("--max-length <n>", "with --model: tokens per window, special tokens included (default: what the model reads; give train's --max-length to match its report)", integer("--max-length"))
    .addOption(quantizeOption())
    .option("--threads <n>", "with --model: CPU threads for ONNX Runtime (default: all cores)", integer("--threads"))
    .option("--revision <rev>", "with --model: Hub revision for a Hub id")
    .option("-o, --out <file>", "output file (default: standard output); with --model, the predictions as CoNLL (the input's columns, then the predicted tag), and the report goes to standard output")
    .action(async (options: EvaluateCommandOptions) => {
      if (options.model !== undefined || options.data !== undefined) return evaluateModel(io, options);
      if (options.gold === undefined) throw new NerkitError("E_USAGE", "give --gold FILE with --pred or --pred-column, or --model with --data FILE");
      if (options.pred !== undefined && options.predColumn !== undefined) {
        throw new NerkitError("E_USAGE", "give either --pred FILE or --pred-column, not both");
      }
      if (options.pred === undefined && options.predColumn === undefined) {
        throw new NerkitError("E_USAGE", "give the predictions: --pred FILE, or --pred-column when the gold file holds them");
      }
      if (options.checkScheme && options.mode !== "strict") throw new NerkitError("E_USAGE", "--check-scheme applies to --mode strict");
      const gold = options.gold;
      const result = evaluateFiles({
        gold,
        pred: options.pred,
        predColumn: options.predColumn === true ? undefined : options.predColumn,
        tagColumn: options.tagColumn,
        mode: options.mode,
        scheme: options.scheme,
        lenient: options.lenient,
        checkScheme: options.checkScheme,
      });
      warnIllegalGoldTransitions(result, io);
      emit(io, formatReport(result, options, `${gold} against ${options.pred ?? "its prediction column"}`), options.out);
      reportSkipped(result.skipped, io.stderr);
    });
}

function formatReport(result: FileEvaluation, options: EvaluateCommandOptions, what: string, calibration?: CalibrationEvaluation): string {
  switch (options.format) {
    case "json":
      return JSON.stringify(calibration ? { ...reportJson(result.report), calibration: calibrationEvaluationJson(calibration) } : reportJson(result.report), null, 2) + "\n";
    case "conlleval":
      return conllevalReport(result.counts);
    case "html":
      return htmlReport({
        report: result.report,
        confusion: confusion(result.gold, result.pred, { mode: options.mode, scheme: result.scheme }),
        description: `${what}, ${options.mode} mode${result.scheme ? ` (${result.scheme.name})` : ""}`,
        calibration,
      });
    default:
      return classificationReport(result.report, options.digits ?? (options.model !== undefined ? 4 : 2));
  }
}

/** --model with --data: the model tags the file's words, and the tags are scored. */
async function evaluateModel(io: CommandIO, options: EvaluateCommandOptions): Promise<void> {
  if (options.model === undefined || options.data === undefined) throw new NerkitError("E_USAGE", "--model and --data go together: the model is scored on the labelled data");
  const conflicting = [options.gold && "--gold", options.pred && "--pred", options.predColumn !== undefined && "--pred-column", options.tagColumn !== undefined && "--tag-column", options.lenient && "--lenient"].filter(Boolean);
  if (conflicting.length > 0) throw new NerkitError("E_USAGE", `${conflicting.join(", ")} cannot be used with --model (the model makes the predictions; --data holds the gold tags)`);
  if (options.batchSize < 1) throw new NerkitError("E_USAGE", "--batch-size must be at least 1");
  const data = readLabelledData(options.data);
  // A Hub id's cache folder is not read for calibration.json (calibrate writes into local folders).
  const calibrationFile = isDirectory(options.model) ? readModelCalibration(options.model) : undefined;
  const pipeline = await openPipeline(options.model, options);
  const bar = new ProgressBar(process.stderr, 20, "batch");
  const started = performance.now();
  let result;
  try {
    result = await evaluateModelOnData(pipeline, data, {
      mode: options.mode,
      scheme: options.scheme,
      batchSize: options.batchSize,
      maxLength: options.maxLength,
      onProgress: (p) => bar.update(p.batches, p.totalBatches, (performance.now() - started) / 1000, {}),
    });
  } finally {
    bar.break();
    await pipeline.close();
  }
  if (options.out) writeFileAtomic(options.out, result.predictions);
  warnIllegalGoldTransitions(result.evaluation, io);
  const calibration = calibrationEvaluation(result.entities.samples, calibrationFile);
  io.stdout(formatReport(result.evaluation, options, `${options.model} on ${options.data}`, calibration));
  // The text report stays seqeval's table (train --test prints the same); the ECE goes beside it.
  if (options.format === "text") io.stderr(calibrationLine(calibration));
}

