// The entity shapes the post-processing steps share: a span as the model pipeline gives it, and a
// span found by a rule. Spans are half-open [start, end) in UTF-16 units of the input text.

/** The least an entity must have to be merged, routed or redacted (`Entity` in infer/pipeline has more). */
export interface SpanEntity {
  type: string;
  text: string;
  start: number;
  end: number;
  /** Calibrated when the model has a calibration (routing decides on it). */
  score: number;
  /** A calibrated model's uncalibrated score; overlaps are settled on it (a calibration never changes which spans are kept). */
  raw_score?: number;
}

/** An entity found by a detector or gazetteer; `validated` when a checksum (mod-97, Luhn) passed. */
export interface RuleEntity extends SpanEntity {
  source: "rule";
  rule: string;
  validated: boolean;
}

export function overlaps(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start < b.end && b.start < a.end;
}
