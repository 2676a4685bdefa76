// The post-processing steps after the model (rules → merge → route, then redact on demand), and
// `postprocess`, which runs the first three in order. Each step is also exported alone.

import { SpanEntity } from "./entity.js";
import { Detector, RuleSet, applyRules } from "./rules.js";
import { MergedEntity, mergeEntities } from "./merge.js";
import { Routed, RoutingOptions, route } from "./routing.js";

export { RuleEntity, SpanEntity, overlaps } from "./entity.js";
export { ibanValid, ipv6Valid, luhnValid } from "./checksums.js";
export {
  DETECTORS,
  DETECTOR_NAMES,
  Detector,
  GazetteerConfig,
  GazetteerOptions,
  RuleSet,
  applyRules,
  compileRules,
  gazetteerRule,
} from "./rules.js";
export { MergedEntity, ModelEntity, mergeEntities } from "./merge.js";
export {
  DEFAULT_THRESHOLDS,
  Decision,
  DocumentDecision,
  Routed,
  RoutingOptions,
  Thresholds,
  decide,
  resolveRouting,
  route,
} from "./routing.js";
export { Region, ScoredSpan, wholeWordRegions } from "./whole-words.js";
export { MASK_CHAR, REDACT_STYLES, RedactOptions, RedactStyle, Redacted, Replacement, Span, redact } from "./redact.js";

export interface PostprocessOptions {
  /** A RuleSet (all detectors by default) or detectors compiled once with compileRules. */
  rules?: RuleSet | readonly Detector[];
  routing?: RoutingOptions;
}

/** Rules → merge → route over one text and the model's entities for it. */
export function postprocess<M extends SpanEntity>(
  text: string,
  modelEntities: readonly M[],
  options: PostprocessOptions = {},
): Routed<MergedEntity<M>> {
  const ruleEntities = applyRules(text, options.rules ?? {});
  return route(mergeEntities(modelEntities, ruleEntities), options.routing);
}
