// The weights a training run starts from: the checkpoint's, found under the task model's names or
// a base model's (a BertModel saved without the "bert." prefix); a new classifier initialised as
// transformers does (normal(0, initializer_range) weights, zero bias) when the checkpoint has no
// head or one for other labels; every parameter from the table's initialiser for random init.

import { NerkitError } from "../errors.js";
import { Architecture } from "../model/architecture.js";
import { ParameterSpec, parameterTable } from "../model/parameters.js";
import { SeededRandom } from "./random.js";

export type WeightLookup = (name: string) => Float32Array | undefined;

export function initialise(spec: ParameterSpec, range: number, random: SeededRandom): Float32Array {
  const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
  if (spec.init === "ones") data.fill(1);
  else if (spec.init === "normal") for (let i = 0; i < data.length; i++) data[i] = random.normal() * range;
  return data;
}

/** Looks a tensor up under its own name or without the base-model prefix. */
export function prefixTolerantLookup(has: (name: string) => boolean, read: (name: string) => Float32Array): WeightLookup {
  return (name) => {
    if (has(name)) return read(name);
    const bare = name.replace(/^(bert|roberta|distilbert)\./, "");
    return bare !== name && has(bare) ? read(bare) : undefined;
  };
}

export interface StartingWeights {
  weights: Map<string, Float32Array>;
  /** The classifier was created for this run. */
  newHead: boolean;
}

/**
 * Starting weights for `arch`. `checkpointLabels` are the labels the checkpoint's head was trained
 * for; when they are the same set as the run's, rows are reordered instead of a new head being made.
 */
export function startingWeights(arch: Architecture, lookup: WeightLookup | undefined, checkpointLabels: readonly string[], random: SeededRandom): StartingWeights {
  const table = parameterTable(arch);
  const weights = new Map<string, Float32Array>();
  const sameLabels = checkpointLabels.length === arch.labels.length && arch.labels.every((l) => checkpointLabels.includes(l));
  let newHead = false;
  for (const spec of table) {
    const isHead = spec.name.startsWith("classifier.");
    let data = lookup && !(isHead && !sameLabels) ? lookup(spec.name) : undefined;
    if (data && isHead && sameLabels) data = reorderRows(data, spec.shape, checkpointLabels, arch.labels);
    if (!data) {
      if (lookup && !isHead) throw new NerkitError("E_FORMAT", `the checkpoint has no tensor ${spec.name}`);
      if (isHead) newHead = true;
      data = initialise(spec, arch.initializerRange, random);
    }
    if (data.length !== spec.shape.reduce((a, b) => a * b, 1)) {
      throw new NerkitError("E_FORMAT", `tensor ${spec.name} has ${data.length} values; [${spec.shape.join(", ")}] expected`);
    }
    weights.set(spec.name, data);
  }
  return { weights, newHead };
}

/** The classifier's rows (one per label) in the run's label order. */
function reorderRows(data: Float32Array, shape: number[], from: readonly string[], to: readonly string[]): Float32Array {
  const width = shape.length === 2 ? shape[1] : 1;
  const out = new Float32Array(data.length);
  to.forEach((label, row) => out.set(data.subarray(from.indexOf(label) * width, (from.indexOf(label) + 1) * width), row * width));
  return out;
}
