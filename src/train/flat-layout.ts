// Where each parameter lives in one flat Float32Array of all of them (and, alike, in the flat
// arrays of the AdamW moments and the gradients): parameters with weight decay first, then those
// without, so that the optimizer can run over long slices of one decay group. Leaves out what the
// tensors hold and how they are updated (step-runner.ts).

import { ParameterSpec } from "../model/parameters.js";

/** A run of whole or partial parameters of one decay group: elements [start, end) of the flat arrays. */
export interface FlatSlice {
  start: number;
  end: number;
  decay: boolean;
}

export class FlatLayout {
  /** Offset and element count of each parameter, by name. */
  private readonly places = new Map<string, { start: number; length: number }>();
  /** Total element count: the length of each flat array. */
  readonly size: number;
  /** Elements [0, decayEnd) belong to parameters with weight decay. */
  private readonly decayEnd: number;

  constructor(parameters: readonly ParameterSpec[]) {
    let offset = 0;
    for (const p of [...parameters.filter((q) => q.decay), ...parameters.filter((q) => !q.decay)]) {
      const length = p.shape.reduce((a, b) => a * b, 1);
      this.places.set(p.name, { start: offset, length });
      offset += length;
    }
    this.size = offset;
    this.decayEnd = parameters.filter((q) => q.decay).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** The view of parameter `name` in a flat array. */
  view(flat: Float32Array, name: string): Float32Array {
    const place = this.places.get(name);
    if (!place) throw new Error(`no parameter named ${name} in the flat layout`);
    return flat.subarray(place.start, place.start + place.length);
  }

  /** Slices of at most `maxLength` elements covering every element once, none across the two decay groups. */
  slices(maxLength: number): FlatSlice[] {
    const out: FlatSlice[] = [];
    for (const [from, to, decay] of [[0, this.decayEnd, true], [this.decayEnd, this.size, false]] as const) {
      for (let start = from; start < to; start += maxLength) out.push({ start, end: Math.min(start + maxLength, to), decay });
    }
    return out;
  }
}
