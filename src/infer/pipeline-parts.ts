// What a pipeline is made of besides its session, built from a model folder's files once they are
// read: the tokenizer, what the pipeline needs to know of it (extras, the special tokens around
// each window), checked against the architecture. Both loaders build a NerPipeline here: Node's
// (./pipeline.ts: the folder on disk, onnxruntime-node) and the browser's (../web/: fetched files,
// onnxruntime-web). Left out: reading files and creating the session (each loader's own).

import { NerkitError } from "../errors.js";
import { Architecture } from "../model/architecture.js";
import type { LogitsModel } from "../model/session-feeds.js";
import type { Quantization } from "../model/export/export-model.js";
import { CalibrationFile } from "../metrics/calibration-file.js";
import { type TokenizerFiles, tokenizerFromFiles } from "../text/tokenizers/build.js";
import type { Tokenizer } from "../text/tokenizers/types.js";
import { tokenizerExtras } from "./tokenizer-extras.js";
import { NerPipeline } from "./ner-pipeline.js";

/** A pipeline's parts from its files: tokenizer and the facts about it; `build` adds the session. */
export interface PipelineParts {
  tokenizer: Tokenizer;
  build(session: LogitsModel, quantize?: Quantization, calibration?: CalibrationFile): NerPipeline;
}

/** The tokenizer the files describe, checked against the model: its ids must fit the embeddings. */
export function pipelineParts(arch: Architecture, tokenizerFiles: TokenizerFiles, folder: string): PipelineParts {
  const tokenizer = tokenizerFromFiles(tokenizerFiles);
  if (tokenizer.vocabSize > arch.vocabSize) {
    throw new NerkitError("E_FORMAT", `the tokenizer has ${tokenizer.vocabSize} tokens but the model's embeddings only ${arch.vocabSize}`, { file: folder });
  }
  const extras = tokenizerExtras(tokenizerFiles);
  const template = specialTemplate(tokenizer);
  return {
    tokenizer,
    build: (session, quantize, calibration) => new NerPipeline(arch, tokenizer, extras, session, template, quantize, calibration),
  };
}

/** The special tokens a single-sequence template puts before and after the content. */
function specialTemplate(tokenizer: Tokenizer): { prefix: number[]; suffix: number[] } {
  const e = tokenizer.encode("a", { addSpecialTokens: true });
  const first = e.specialTokensMask.indexOf(0);
  const last = e.specialTokensMask.lastIndexOf(0);
  if (first < 0) return { prefix: e.ids, suffix: [] };
  return { prefix: e.ids.slice(0, first), suffix: e.ids.slice(last + 1) };
}
