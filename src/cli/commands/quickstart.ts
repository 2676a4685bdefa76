// nerkit quickstart: the whole foundation on the demo data that ships with nerkit (written by the
// nerkit authors, not taken from any corpus): statistics, a seqeval-identical evaluation of demo
// predictions, and conversions to span JSON lines and BILOU, written into an output folder.

import { Command } from "commander";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { formatConll, parseConll } from "../../data/conll.js";
import { toSpanDocuments, toTokenSentences } from "../../data/corpus.js";
import { SCHEMES } from "../../data/schemes.js";
import { formatSpanJsonl } from "../../data/span-formats.js";
import { corpusStats, formatStats } from "../../data/stats.js";
import { writeFileAtomic, readTextFile } from "../../io/files.js";
import { classificationReport } from "../../metrics/classification-report.js";
import { evaluateFiles } from "../../metrics/evaluate-files.js";
import { confusion } from "../../metrics/confusion.js";
import { htmlReport } from "../../metrics/html-report.js";
import { packageRoot } from "../../package-root.js";
import { CommandIO } from "../io.js";

export const DEMO_DIR = join(packageRoot, "examples", "demo");

export function quickstartCommand(io: CommandIO): Command {
  return new Command("quickstart")
    .description("run the main job on the demo data that ships with nerkit: stats, evaluate, convert")
    .option("--out-dir <dir>", "folder for the converted files and the HTML report", "nerkit-quickstart")
    .action((options: { outDir: string }) => {
      const gold = join(DEMO_DIR, "gold.conll");
      const pred = join(DEMO_DIR, "pred.conll");
      const corpus = parseConll(readTextFile(gold), { file: gold, scheme: SCHEMES.IOB2, strict: true });
      io.stdout(`== nerkit quickstart on ${gold}\n   (demo data written for nerkit; real accuracy needs real data)\n\n`);
      io.stdout(`== stats\n${formatStats(corpusStats(corpus.sentences, SCHEMES.IOB2))}\n`);

      const result = evaluateFiles({ gold, pred });
      io.stdout(`== evaluate ${pred} (seqeval default mode)\n${classificationReport(result.report, 4)}\n`);
      const strict = evaluateFiles({ gold, pred, mode: "strict", scheme: "IOB2" });
      io.stdout(`== strict mode (IOB2): f1 ${strict.report.overall.f1.toFixed(4)} (default mode: ${result.report.overall.f1.toFixed(4)})\n\n`);

      mkdirSync(options.outDir, { recursive: true });
      const tokenCorpus = { kind: "tokens" as const, conll: corpus, file: gold };
      const outputs: [string, string][] = [
        ["gold.jsonl", formatSpanJsonl(toSpanDocuments(tokenCorpus, { sourceScheme: SCHEMES.IOB2 }))],
        ["gold.bilou.conll", formatConll(toTokenSentences(tokenCorpus, SCHEMES.BILOU, { sourceScheme: SCHEMES.IOB2 }))],
        ["report.html", htmlReport({ report: result.report, confusion: confusion(result.gold, result.pred), description: `${gold} against ${pred}` })],
      ];
      io.stdout("== convert\n");
      for (const [name, content] of outputs) {
        const path = join(options.outDir, name);
        writeFileAtomic(path, content);
        io.stdout(`wrote ${path}\n`);
      }
      const firstLine = outputs[0][1].split("\n")[0];
      io.stdout(`\nfirst record of gold.jsonl:\n${firstLine}\n`);
    });
}
