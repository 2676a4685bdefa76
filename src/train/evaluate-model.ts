// Scores the model being trained on labelled examples with the seqeval-identical metrics: the
// current weights go into an inference graph, each word takes the label of its first sub-token,
// and the word tags are compared with the gold ones.

import { Architecture } from "../model/architecture.js";
import { TokenClassifierSession } from "../model/session.js";
import { argmax } from "../infer/aggregation.js";
import { evaluate, EvaluationReport } from "../metrics/seqeval.js";
import { Example } from "./examples.js";
import { collate } from "./batches.js";

export interface ModelEvaluation {
  report: EvaluationReport;
  predictions: string[][];
}

export async function evaluateExamples(
  arch: Architecture,
  weights: (name: string) => Float32Array,
  shapes: Map<string, number[]>,
  examples: readonly Example[],
  options: { padTokenId: number; batchSize: number; threads?: number },
): Promise<ModelEvaluation> {
  const session = await TokenClassifierSession.create(arch, (name) => ({ shape: shapes.get(name)!, data: weights(name) }), { threads: options.threads });
  const L = arch.labels.length;
  const predictions: string[][] = new Array(examples.length);
  try {
    for (let start = 0; start < examples.length; start += options.batchSize) {
      const members = examples.slice(start, start + options.batchSize);
      const batch = collate(members, options.padTokenId);
      const logits = await session.run(batch);
      members.forEach((example, row) => {
        predictions[start + row] = example.words.map((_, w) => {
          const t = example.firstTokens[w];
          if (t === undefined) return "O"; // a word cut off by the window limit
          const offset = (row * batch.length + t) * L;
          return arch.labels[argmax(logits.subarray(offset, offset + L))];
        });
      });
    }
  } finally {
    await session.release();
  }
  return { report: evaluate(examples.map((e) => e.tags), predictions), predictions };
}
