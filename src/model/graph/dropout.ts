// Dropout for training, forward and backward, with its randomness fed in: each dropout site takes
// a uint16 noise tensor of its own shape, and an element is kept when its noise ≥ p·65536. The
// trainer makes the noise with a seeded generator whose state goes into every checkpoint, so a
// resumed run drops exactly what an uninterrupted one would (ONNX's Dropout and RandomUniform draw
// from generators nerkit cannot save or restore).
// Forward: y = x · keep / (1 − p); backward: dx = dy · keep / (1 − p).

import { DataType, Dim } from "../onnx/proto.js";
import { GraphBuilder } from "../onnx/graph-builder.js";

/** A dropout site: the graph input of its noise and the shape that noise has. */
export interface DropoutSite {
  input: string;
  dims: Dim[];
}

export interface DropoutSaved {
  /** keep / (1 − p), the factor both passes multiply by. */
  scale: string;
}

/** Adds the noise input of a site and applies dropout with probability `p` (nothing when p = 0). */
export function dropoutForward(g: GraphBuilder, x: string, p: number, site: { name: string; dims: Dim[] }, sites: DropoutSite[]): { y: string; saved?: DropoutSaved } {
  if (p <= 0) return { y: x };
  const input = g.input(`dropout.${site.name}`, DataType.UINT16, site.dims);
  sites.push({ input, dims: site.dims });
  const keep = g.op("Cast", [g.op("GreaterOrEqual", [g.op("Cast", [input], { to: DataType.FLOAT }), g.float([Math.round(p * 65536)])])], { to: DataType.FLOAT });
  const scale = g.op("Mul", [keep, g.float([1 / (1 - p)])]);
  return { y: g.op("Mul", [x, scale]), saved: { scale } };
}

export function dropoutBackward(g: GraphBuilder, saved: DropoutSaved | undefined, dy: string): string {
  return saved ? g.op("Mul", [dy, saved.scale]) : dy;
}
