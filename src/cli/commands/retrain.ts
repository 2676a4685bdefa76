// nerkit retrain: one retrain from the command line, as POST /v1/retrain runs it in the service:
// the serving version of the registry (--models) fine-tuned on its original training data plus the
// documents reviewed in the job database (--db), judged by the gate, calibrated, recorded as a
// candidate and promoted when the gate says so (../../serve/retrain/retrain-now.ts). Prints the
// retrain's log on stderr and its outcome on stdout; Ctrl-C stops the trainer and records the
// retrain failed.

import { Command } from "commander";
import { NerkitError } from "../../errors.js";
import { openRepository } from "../../serve/storage/open.js";
import { openModelRegistry } from "../../serve/models/registry-service.js";
import { retrainNow } from "../../serve/retrain/retrain-now.js";
import { CommandIO } from "../io.js";
import { integer } from "../options.js";
import { RetrainFlags, retrainOptions, retrainSettings } from "../retrain-options.js";

interface RetrainCommandOptions extends RetrainFlags {
  db: string;
  models: string;
  threads?: number;
}

export function retrainCommand(io: CommandIO): Command {
  return retrainOptions(
    new Command("retrain")
      .description("fine-tune the serving model on the reviewed documents, judge it against the serving one on gold data (the gate), calibrate it, and promote it when it is better")
      .requiredOption("--db <path>", "the job database holding the reviews: SQLite file or postgres:// URL")
      .requiredOption("--models <dir>", "the model registry's folder (serve --models)"),
  )
    .option("--threads <n>", "CPU threads for ONNX Runtime", integer("--threads"))
    .action(async (options: RetrainCommandOptions) => {
      const settings = retrainSettings(options, options.threads);
      const repository = await openRepository(options.db);
      // Promotion here only records the new serving version: running servers and workers follow it.
      const registry = openModelRegistry(repository, options.models);
      // Nothing to fine-tune from: say so in one line before a retrain is recorded.
      await registry.serving().catch(async (error) => {
        await repository.close();
        throw error;
      });
      const abort = new AbortController();
      const onInt = () => {
        io.stderr("nerkit: stopping the retrain (its trainer stops after the current step)\n");
        abort.abort();
      };
      process.once("SIGINT", onInt);
      try {
        let lastPhase = "";
        const record = await retrainNow({
          repository,
          registry,
          settings,
          signal: abort.signal,
          onLog: (line) => io.stderr(`${line}\n`),
          onProgress: (_fraction, phase) => {
            if (phase !== lastPhase) io.stderr(`nerkit: ${phase}\n`);
            lastPhase = phase;
          },
        });
        if (record.status !== "done") throw new NerkitError("E_RETRAIN", `retrain ${record.id} failed: ${record.error ?? "unknown"}`);
        io.stdout(`retrain ${record.id}: ${record.candidate} ${record.promoted ? "promoted" : "kept as a candidate"}: ${record.gate?.reason ?? ""}\n`);
      } finally {
        process.off("SIGINT", onInt);
        await repository.close();
      }
    });
}
