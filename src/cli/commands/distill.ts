// nerkit distill: train a small student (random weights of a named size or a config.json) to
// imitate a trained NER model (the teacher) on labelled data and, optionally, unlabelled text; the
// loss is ../../model/graph/distillation-loss.ts's. Takes every run option of `nerkit train`
// (../training-run.ts) and writes the same kind of checkpoint. The teacher's logits are computed
// once and cached (../../train/distill/teacher-cache.ts) in --teacher-cache, by default under
// $XDG_CACHE_HOME/nerkit (or ~/.cache/nerkit): not in --out, which holds one run's files only,
// and so that several students of one teacher and data share one computation. --match-hidden adds
// hidden-state matching (../../model/graph/hidden-matching-loss.ts); the teacher's states are
// cached beside its logits (../../train/distill/teacher-hidden.ts).

import { homedir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { INIT_NAMES } from "../../train/init-config.js";
import { train } from "../../train/trainer.js";
import { checkRunFolder } from "../../train/run-folder.js";
import { DEFAULT_HIDDEN_CACHE_LIMIT, prepareDistill } from "../../train/distill/prepare-distill.js";
import { formatLayerPairs, parseLayerPairs } from "../../train/distill/layer-pairs.js";
import { size } from "../../train/distill/teacher-hidden.js";
import { LayerPair } from "../../model/graph/hidden-matching-loss.js";
import { NerkitError } from "../../errors.js";
import { CommandIO } from "../io.js";
import { positiveNumber, probability } from "../options.js";
import { RunCommandOptions, addRunOptions, afterTraining, checkRunOptions, renderTraining, runSettings } from "../training-run.js";

interface DistillCommandOptions extends RunCommandOptions {
  teacher: string;
  student: string;
  train: string;
  unlabelled?: string;
  dev?: string;
  test?: string;
  out: string;
  temperature: number;
  alpha: number;
  teacherCache?: string;
  /** true for a bare --match-hidden (the default mapping). */
  matchHidden?: LayerPair[] | true;
  hiddenWeight?: number;
  hiddenCacheLimit?: number;
}

/** Where teacher logits are cached unless --teacher-cache says otherwise. */
export function defaultTeacherCache(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.trim() !== "" ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "nerkit", "teacher-logits");
}

export function distillCommand(io: CommandIO): Command {
  const command = new Command("distill")
    .description("train a smaller model (the student) to imitate a trained one (the teacher): soft targets from the teacher's logits plus the gold labels")
    .requiredOption("--teacher <dir>", "the trained NER model to imitate (its tokenizer and labels are the student's)")
    .requiredOption("--student <size|config.json>", `the student's shape, from random weights: ${INIT_NAMES.join(", ")} or a config.json`)
    .requiredOption("--train <file>", "labelled training data (CoNLL, JSONL spans, doccano, Label Studio)")
    .option("--unlabelled <file>", "unlabelled text: .txt (one text per line) or JSON lines {\"text\"}; the teacher's soft targets only")
    .option("--dev <file>", "evaluation data, scored after every epoch")
    .option("--test <file>", "test data, scored once with the final model")
    .requiredOption("--out <dir>", "output folder: the student, checkpoint-N folders, training_log.jsonl")
    .option("--temperature <T>", "softmax temperature of the soft targets", positiveNumber("--temperature"), 2)
    .option("--alpha <x>", "weight of the gold labels' cross-entropy; 1 − alpha goes to the soft targets", probability("--alpha"), 0.5)
    .option("--teacher-cache <dir>", "folder of cached teacher logits (default: $XDG_CACHE_HOME/nerkit/teacher-logits)")
    .option("--match-hidden [pairs]", "also match hidden states, TEACHER:STUDENT layer pairs such as 4:2,8:4 (0: embeddings); alone, student layer m imitates teacher layer m·N/M", parseLayerPairs)
    .option("--hidden-weight <beta>", "weight of the hidden-state term (default 1)", positiveNumber("--hidden-weight"))
    .option("--hidden-cache-limit <GiB>", "largest cache of teacher hidden states to write (default 8)", positiveNumber("--hidden-cache-limit"));
  return addRunOptions(command).action(async (options: DistillCommandOptions) => {
    checkRunOptions(options);
    if (!options.matchHidden && (options.hiddenWeight !== undefined || options.hiddenCacheLimit !== undefined)) {
      throw new NerkitError("E_USAGE", "--hidden-weight and --hidden-cache-limit apply to --match-hidden, which is not given");
    }
    checkRunFolder(options.out, { resume: options.resume ?? false, overwrite: options.overwrite ?? false, reads: [options.teacher] });
    const cacheDir = options.teacherCache ?? defaultTeacherCache();
    const prepared = await prepareDistill({
      ...options,
      teacherDir: options.teacher,
      cacheDir,
      outDir: options.out,
      matchHidden: options.matchHidden === true ? "default" : options.matchHidden,
      hiddenCacheLimit: (options.hiddenCacheLimit ?? DEFAULT_HIDDEN_CACHE_LIMIT / 2 ** 30) * 2 ** 30,
    });
    const { inputs, targets } = prepared;
    io.stderr(`nerkit: ${inputs.train.length} training examples (${prepared.unlabelledExamples} of them unlabelled), ${inputs.arch.labels.length} labels of the teacher (${inputs.arch.labels.join(", ")}); about ${(prepared.memoryBytes / 2 ** 30).toFixed(2)} GiB\n`);
    io.stderr(`nerkit: student ${options.student} (${inputs.arch.layers} layers, hidden ${inputs.arch.hidden}) from random weights; teacher ${prepared.teacher.arch.layers} layers, hidden ${prepared.teacher.arch.hidden}\n`);
    if (prepared.splits > 0) io.stderr(`nerkit: ${prepared.splits} sentences were longer than the model reads and were split into pieces\n`);
    io.stderr(`nerkit: teacher logits ${targets.reused ? "reused from" : "computed and cached in"} ${targets.file} (${targets.tokens} tokens)\n`);
    if (options.alpha === 1) io.stderr("nerkit: --alpha 1 gives the teacher no weight: this is plain training on the gold labels\n");
    const settings = runSettings(options, prepared.classWeights);
    const { hidden } = prepared;
    if (hidden) {
      const { settings, cache } = hidden;
      const projection = settings.studentWidth === settings.teacherWidth ? "no projection (equal widths)" : `projections ${settings.studentWidth} → ${settings.teacherWidth}, trained with the student and not saved in it`;
      io.stderr(`nerkit: matching hidden states (teacher:student) ${formatLayerPairs(settings.pairs)} with weight ${settings.weight}, ${projection}\n`);
      io.stderr(`nerkit: teacher hidden states ${cache.reused ? "reused from" : "computed and cached in"} ${cache.file} (${size(cache.bytes)})\n`);
    }
    const distillation = { temperature: options.temperature, alpha: options.alpha, teacher: targets.key, hidden: hidden ? { ...hidden.settings, teacherStates: hidden.cache.key } : undefined };
    await renderTraining(io, (stop) => train(inputs, { ...settings, distillation, stop }), options.metric, "distilled model");
    await afterTraining(io, { ...options, madeBy: "nerkit distill" }, prepared);
  });
}
