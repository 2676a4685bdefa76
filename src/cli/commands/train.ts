// nerkit train: fine-tune a BERT-family model for token classification on labelled data in any
// format nerkit reads, writing a Hugging Face checkpoint that `nerkit predict` and transformers load.

import { Command } from "commander";
import { NerkitError } from "../../errors.js";
import { resolveModel } from "../../model/hub/resolve-model.js";
import { createProgressRenderer } from "../../model/hub/progress.js";
import { prepare } from "../../train/prepare.js";
import { INIT_NAMES } from "../../train/init-config.js";
import { train } from "../../train/trainer.js";
import { checkRunFolder } from "../../train/run-folder.js";
import { CommandIO } from "../io.js";
import { RunCommandOptions, addRunOptions, afterTraining, checkRunOptions, renderTraining, runSettings } from "../training-run.js";

/** The command's options: the run's (../training-run.ts), plus the data and model. */
interface TrainCommandOptions extends RunCommandOptions {
  model?: string;
  init?: string;
  tokenizer?: string;
  train: string;
  dev?: string;
  test?: string;
  out: string;
  revision?: string;
}

export function trainCommand(io: CommandIO): Command {
  const command = new Command("train")
    .description("fine-tune a BERT-family model for token classification (transformers' Trainer, in TypeScript)")
    .option("--model <dir|hub-id>", "base checkpoint: a folder or a Hugging Face id (a new head is made for the data's labels)")
    .option("--init <size|config.json>", `random weights instead of a checkpoint: ${INIT_NAMES.join(", ")} or a config.json (needs --tokenizer)`)
    .option("--tokenizer <dir>", "tokenizer folder (default: the model's); made by `nerkit tokenizer train` for --init")
    .requiredOption("--train <file>", "training data (CoNLL, JSONL spans, doccano, Label Studio)")
    .option("--dev <file>", "evaluation data, scored after every epoch")
    .option("--test <file>", "test data, scored once with the final model")
    .requiredOption("--out <dir>", "output folder: the trained model, checkpoint-N folders, training_log.jsonl");
  return addRunOptions(command)
    .option("--revision <rev>", "Hub revision for a Hub id")
    .action(async (options: TrainCommandOptions) => {
      checkRunOptions(options);
      if (options.model && options.init) throw new NerkitError("E_USAGE", "give --model or --init, not both");
      checkRunFolder(options.out, { resume: options.resume ?? false, overwrite: options.overwrite ?? false, reads: [options.model, options.tokenizer] });
      let modelDir: string | undefined;
      if (options.model) {
        const download = createProgressRenderer(process.stderr);
        modelDir = await resolveModel(options.model, { revision: options.revision, onProgress: (p) => download.update(p) });
        download.end();
      }
      const prepared = prepare({ ...options, modelDir, init: options.init, tokenizerDir: options.tokenizer, outDir: options.out });
      const { inputs } = prepared;
      io.stderr(`nerkit: ${inputs.train.length} training examples, ${inputs.arch.labels.length} labels (${inputs.arch.labels.join(", ")}); about ${(prepared.memoryBytes / 2 ** 30).toFixed(2)} GiB\n`);
      if (options.init) io.stderr(`nerkit: random weights of ${options.init} (${inputs.arch.layers} layers, hidden ${inputs.arch.hidden}): real accuracy needs a pretrained model\n`);
      else if (prepared.newHead) io.stderr(`nerkit: the checkpoint has no head for these labels: a new classifier was initialised (normal, std ${inputs.arch.initializerRange})\n`);
      if (prepared.splits > 0) io.stderr(`nerkit: ${prepared.splits} sentences were longer than the model reads and were split into pieces\n`);
      const settings = runSettings(options, prepared.classWeights);
      await renderTraining(io, (stop) => train(inputs, { ...settings, stop }), options.metric);
      await afterTraining(io, { ...options, madeBy: "nerkit train" }, prepared);
    });
}
