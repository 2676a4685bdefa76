// Evaluation of CoNLL files: a gold file and a prediction file with the same tokens, or one file
// whose last two columns hold gold and predicted tags. Checks that the tokens line up, reads the
// tags in the chosen mode and returns the seqeval report with the counts and error analysis.
// evaluateConll does the same for texts already in memory (the service's POST /v1/evaluate).

import { NerkitError, SkippedRecord } from "../errors.js";
import { readTextFile } from "../io/files.js";
import { firstIllegalTransition, illegalTransitions } from "../data/chunks.js";
import { ConllSentence, parseConll } from "../data/conll.js";
import { detectScheme } from "../data/scheme-detect.js";
import { SchemeName, SchemeTable, schemeByName } from "../data/schemes.js";
import { CorpusCounts, EvaluationMode, countEntities } from "./entity-counts.js";
import { EvaluationReport, reportFromCounts } from "./seqeval.js";

export interface EvaluateFilesOptions {
  gold: string;
  /** Prediction file; when absent, the gold file holds the predictions in `predColumn`. */
  pred?: string;
  /** 1-based column of predicted tags (negative from the end) in the gold file; default last. */
  predColumn?: number;
  /** 1-based column of gold tags; default last, or second to last with `predColumn`. */
  tagColumn?: number;
  mode?: EvaluationMode;
  scheme?: SchemeName | SchemeTable;
  lenient?: boolean;
  /** Strict mode: gold tags that break the scheme are an error (or, with `lenient`, a skipped
   *  sentence) instead of being scored as seqeval scores them. */
  checkScheme?: boolean;
}

/** A CoNLL text and the name its error messages give it (a path, or "gold" and "pred"). */
export interface ConllSource {
  name: string;
  text: string;
}

export interface EvaluateConllOptions extends Omit<EvaluateFilesOptions, "gold" | "pred"> {
  gold: ConllSource;
  pred?: ConllSource;
}

export interface FileEvaluation {
  report: EvaluationReport;
  counts: CorpusCounts;
  /** The tags that were scored (for confusion(), which only the HTML report needs). */
  gold: string[][];
  pred: string[][];
  scheme?: SchemeTable;
  skipped: SkippedRecord[];
  /** Strict mode without `checkScheme`: how many gold transitions the scheme does not allow (they
   *  start no entity, as in seqeval), and the first, with its file and line; absent when none. */
  illegalGoldTransitions?: { count: number; first: NerkitError };
}

/** The warning strict mode gives for gold tags that break the scheme, or undefined when there are none. */
export function illegalTransitionWarning({ illegalGoldTransitions: illegal, scheme }: FileEvaluation): string | undefined {
  if (!illegal) return undefined;
  const transitions = illegal.count === 1 ? "1 transition" : `${illegal.count} transitions`;
  return (
    `the gold tags have ${transitions} that ${scheme?.name} does not allow, first ${illegal.first.describe()}; ` +
    "scored as seqeval scores them (those tags start no entity); --check-scheme rejects them"
  );
}

function readSentences(path: string, text: string, tagColumn: number | undefined, lenient: boolean): { sentences: ConllSentence[]; skipped: SkippedRecord[] } {
  const corpus = parseConll(text, { file: path, tagColumn, lenient, keepBroken: true });
  return { sentences: corpus.sentences, skipped: corpus.skipped };
}

export function evaluateFiles(options: EvaluateFilesOptions): FileEvaluation {
  const { gold, pred, ...rest } = options;
  // One file holding both columns is read once and parsed for each.
  return evaluateConll({ ...rest, gold: { name: gold, text: readTextFile(gold) }, pred: pred === undefined ? undefined : { name: pred, text: readTextFile(pred) } });
}

export function evaluateConll(options: EvaluateConllOptions): FileEvaluation {
  const lenient = options.lenient ?? false;
  const mode = options.mode ?? "default";
  const goldFile = options.gold.name;
  const goldRead = readSentences(goldFile, options.gold.text, options.tagColumn ?? (options.pred ? -1 : -2), lenient);
  const predRead = options.pred
    ? readSentences(options.pred.name, options.pred.text, options.predColumn ?? -1, lenient)
    : readSentences(goldFile, options.gold.text, options.predColumn ?? -1, lenient);
  const skipped = [...goldRead.skipped, ...(options.pred ? predRead.skipped : [])];
  const predFile = options.pred?.name ?? goldFile;
  for (const [read, file] of [[goldRead, goldFile], [predRead, predFile]] as const) {
    if (read.sentences.length === 0) throw new NerkitError("E_FORMAT", "holds no sentence: there is nothing to evaluate", { file });
  }

  if (goldRead.sentences.length !== predRead.sentences.length) {
    throw new NerkitError(
      "E_MISMATCH",
      `${goldFile} has ${goldRead.sentences.length} sentences but ${predFile} has ${predRead.sentences.length}`,
      { file: predFile },
    );
  }
  const pairs: [ConllSentence, ConllSentence][] = [];
  goldRead.sentences.forEach((g, s) => {
    const p = predRead.sentences[s];
    if (g.error || p.error) return;
    for (let i = 0; i < Math.max(g.tokens.length, p.tokens.length); i++) {
      if (g.tokens[i] !== p.tokens[i]) {
        throw new NerkitError(
          "E_MISMATCH",
          `token ${JSON.stringify(p.tokens[i] ?? "(end of sentence)")} differs from the gold file's ${JSON.stringify(g.tokens[i] ?? "(end of sentence)")} (${goldFile}:${g.line + i})`,
          { file: predFile, line: p.line + Math.min(i, p.tokens.length) },
        );
      }
    }
    pairs.push([g, p]);
  });

  let scheme: SchemeTable | undefined;
  let kept = pairs;
  let illegalGoldTransitions: FileEvaluation["illegalGoldTransitions"];
  if (mode === "strict") {
    scheme =
      options.scheme === undefined
        ? detectScheme(pairs.map(([g]) => g.tags), { seqevalOnly: true })
        : typeof options.scheme === "string"
          ? schemeByName(options.scheme)
          : options.scheme;
    if (options.checkScheme) {
      // Asked for: a gold file that breaks its own scheme is a data error.
      kept = pairs.filter(([g]) => {
        const illegal = firstIllegalTransition(g.tags, scheme!);
        if (!illegal) return true;
        const error = new NerkitError("E_TRANSITION", `${illegal.message} in the gold tags (leave out --check-scheme to score them as seqeval does, or add --lenient to skip)`, {
          file: goldFile,
          line: g.line + illegal.index,
        });
        if (!lenient) throw error;
        skipped.push({ error });
        return false;
      });
    } else {
      // seqeval scores such gold tags (they start no entity); the caller warns about them.
      for (const [g] of pairs) {
        const illegal = illegalTransitions(g.tags, scheme);
        if (illegal.length === 0) continue;
        illegalGoldTransitions ??= {
          count: 0,
          first: new NerkitError("E_TRANSITION", illegal[0].message, { file: goldFile, line: g.line + illegal[0].index }),
        };
        illegalGoldTransitions.count += illegal.length;
      }
    }
  }
  const gold = kept.map(([g]) => g.tags);
  const pred = kept.map(([, p]) => p.tags);
  const counts = countEntities(gold, pred, { mode, scheme });
  return { report: reportFromCounts(counts), counts, gold, pred, scheme, skipped, ...(illegalGoldTransitions ? { illegalGoldTransitions } : {}) };
}
