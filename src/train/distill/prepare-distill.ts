// Everything a distillation run needs before its first step: the teacher (a token-classification
// checkpoint), the student with random weights of a named size or a config.json, built on the
// teacher's tokenizer and label set (prepare.ts does the rest as for `train --init`), the
// unlabelled texts as examples with soft targets only, and the teacher's logits on every example
// (teacher-cache.ts); with --match-hidden, the layer pairs (layer-pairs.ts), the projections'
// starting weights and the teacher's hidden states (teacher-hidden.ts). Left out: a pretrained
// student (students start from random weights).

import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { architectureOf, maxTokens } from "../../model/architecture.js";
import { CONFIG_FILE, loadCheckpoint } from "../../model/checkpoint/load-checkpoint.js";
import { Prepared, PrepareOptions, prepare } from "../prepare.js";
import { initConfig } from "../init-config.js";
import { Teacher, TeacherTargets, attachTeacherLogits } from "./teacher-cache.js";
import { labelledPositions } from "./soft-targets.js";
import { readUnlabelledWords, unlabelledExamples } from "./unlabelled-text.js";
import { HiddenMatchingSettings, LayerPair, projectionTable } from "../../model/graph/hidden-matching-loss.js";
import { parameterCount } from "../../model/parameters.js";
import { initialise } from "../initial-weights.js";
import { SeededRandom } from "../random.js";
import { checkLayerPairs, defaultLayerPairs } from "./layer-pairs.js";
import { TeacherHidden, attachTeacherHidden, checkHiddenCacheLimit } from "./teacher-hidden.js";

export interface DistillPrepareOptions extends Omit<PrepareOptions, "modelDir" | "init" | "tokenizerDir" | "labels"> {
  teacherDir: string;
  /** bert-tiny, bert-mini, bert-small, bert-medium or a config.json. */
  student: string;
  unlabelled?: string;
  cacheDir: string;
  threads?: number;
  /** --match-hidden: the pairs, or "default" for the uniform mapping; absent: no hidden-state matching. */
  matchHidden?: LayerPair[] | "default";
  /** β of the hidden-state term (1 when absent). */
  hiddenWeight?: number;
  /** Largest teacher-state cache accepted, in bytes. */
  hiddenCacheLimit?: number;
}

export interface PreparedDistill extends Prepared {
  teacher: Teacher;
  targets: TeacherTargets;
  /** Examples made of the unlabelled texts (appended to the training examples). */
  unlabelledExamples: number;
  /** --match-hidden: the loss's settings and the teacher's cached states. */
  hidden?: { settings: HiddenMatchingSettings; cache: TeacherHidden };
}

/** The largest teacher-state cache accepted unless --hidden-cache-limit says otherwise: 8 GiB. */
export const DEFAULT_HIDDEN_CACHE_LIMIT = 8 * 2 ** 30;

/**
 * What --match-hidden adds to training's memory (../prepare.ts's estimate), counted as that estimate
 * counts, not measured on its own: 48 bytes per projection parameter (values, moments, their spare
 * buffers, gradient), and per pair and token of the largest batch the teacher's states fed, the
 * projected states, the residual and its gradient (4 H floats) and the student state's gradient (S),
 * × 1.17 for the arena's growth over batches of changing shapes.
 */
export function hiddenMatchingMemory(settings: HiddenMatchingSettings, batchTokens: number): number {
  const projections = parameterCount(projectionTable(settings));
  return 12 * 4 * projections + 1.17 * batchTokens * settings.pairs.length * 4 * (4 * settings.teacherWidth + settings.studentWidth);
}

export function loadTeacher(dir: string): Teacher {
  const checkpoint = loadCheckpoint(dir);
  const configPath = join(checkpoint.dir, CONFIG_FILE);
  if (checkpoint.config.labels.length === 0) {
    throw new NerkitError("E_FORMAT", "the teacher has no label set (id2label): distill needs a token-classification model, e.g. one `nerkit train` wrote", { file: configPath });
  }
  const arch = architectureOf(checkpoint.config, configPath);
  return { dir: checkpoint.dir, arch, weights: (name) => checkpoint.weights.tensor(name), files: [configPath, ...checkpoint.weightFiles] };
}

export async function prepareDistill(options: DistillPrepareOptions): Promise<PreparedDistill> {
  const teacher = loadTeacher(options.teacherDir);
  const teacherLimit = maxTokens(teacher.arch);
  // Checked before prepare(), whose message (tokenizer vs embeddings) would not name the student's file.
  const studentVocab = initConfig(options.student, teacher.arch.vocabSize, 0).vocab_size;
  if (studentVocab !== teacher.arch.vocabSize) {
    throw new NerkitError(
      "E_FORMAT",
      `the student's vocab_size is ${String(studentVocab)} but the teacher's is ${teacher.arch.vocabSize}: the student reads the teacher's tokenizer (leave vocab_size out to take the teacher's)`,
      { file: options.student, field: "vocab_size" },
    );
  }
  const prepared = prepare({
    ...options,
    init: options.student,
    tokenizerDir: teacher.dir,
    labels: teacher.arch.labels,
    maxLength: Math.min(options.maxLength ?? teacherLimit, teacherLimit),
  });
  const { inputs } = prepared;
  const positions = inputs.train.map(labelledPositions);
  let unlabelledCount = 0;
  if (options.unlabelled) {
    const texts = readUnlabelledWords(options.unlabelled);
    const built = unlabelledExamples(texts, inputs.tokenizer, { maxLength: inputs.maxLength, labelAllSubtokens: options.labelAllSubtokens });
    inputs.train.push(...built.examples);
    positions.push(...built.positions);
    unlabelledCount = built.examples.length;
  }
  let settings: HiddenMatchingSettings | undefined;
  if (options.matchHidden) {
    const pairs = options.matchHidden === "default" ? defaultLayerPairs(teacher.arch.layers, inputs.arch.layers) : options.matchHidden;
    checkLayerPairs(pairs, teacher.arch.layers, inputs.arch.layers);
    settings = { pairs, weight: options.hiddenWeight ?? 1, studentWidth: inputs.arch.hidden, teacherWidth: teacher.arch.hidden };
    // Their own generator (from the seed), so the student's weights are those of a run without them.
    const random = new SeededRandom((options.seed ^ 0x5bd1e995) >>> 0);
    for (const spec of projectionTable(settings)) inputs.weights.set(spec.name, initialise(spec, inputs.arch.initializerRange, random));
  }
  const hiddenLimit = options.hiddenCacheLimit ?? DEFAULT_HIDDEN_CACHE_LIMIT;
  if (settings) checkHiddenCacheLimit(teacher, settings.pairs.map((p) => p.teacher), inputs.train, hiddenLimit);
  const cacheOptions = { cacheDir: options.cacheDir, batchSize: options.batchSize, padTokenId: inputs.tokenizer.padTokenId, threads: options.threads };
  const targets = await attachTeacherLogits(teacher, inputs.train, positions, cacheOptions);
  const hidden = settings
    ? { settings, cache: await attachTeacherHidden(teacher, inputs.train, settings.pairs.map((p) => p.teacher), { ...cacheOptions, limitBytes: hiddenLimit }) }
    : undefined;
  const memoryBytes = prepared.memoryBytes + (settings ? hiddenMatchingMemory(settings, Math.min(options.batchSize, inputs.train.length) * Math.max(...inputs.train.map((e) => e.inputIds.length))) : 0);
  return { ...prepared, memoryBytes, teacher, targets, unlabelledExamples: unlabelledCount, hidden };
}
