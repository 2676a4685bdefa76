// Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks",
// https://arxiv.org/abs/1706.04599): logits are divided by one scalar T before the softmax. T > 1
// flattens the probabilities, T < 1 sharpens them; the argmax, so every predicted tag and entity,
// stays the same.
//
// T is fitted on entities, not tokens: an entity's score under T is
//   score_T = mean over its words of softmax(logits_w / T)[winning label of w]
// (at T = 1 the score the pipeline's "first" aggregation gives), and T minimises the negative
// log-likelihood of "the entity is exactly right" under score_T (binary cross-entropy). Guo et al.
// fit the token-level NLL of the gold label instead; we do not, because the quantity routing acts
// on is the entity score, and an entity can be wrong while each of its tokens is probably right
// (a boundary one word off), so the token-level optimum is not the entity-level one.
//
// The minimisation is one-dimensional, over log T in [log 1/50, log 50]: a grid of 41 points first
// (the entity NLL need not be unimodal in T: a mean of per-word probabilities is not a logistic
// function), then golden-section search in the grid interval around the best point.
// Left out: vector or matrix scaling (a bias per label), which would move argmaxes.

import { ScoredOutcome } from "./entity-sample.js";
import { negativeLogLikelihood } from "./quality.js";

export const TEMPERATURE_RANGE: readonly [number, number] = [1 / 50, 50];

/** softmax(logits / T)[argmax logits], in float64. */
export function temperedWinner(logits: ArrayLike<number>, temperature: number): number {
  let best = 0;
  for (let l = 1; l < logits.length; l++) if (logits[l] > logits[best]) best = l;
  const max = logits[best];
  let sum = 0;
  for (let l = 0; l < logits.length; l++) sum += Math.exp((logits[l] - max) / temperature);
  return 1 / sum;
}

/** An entity's score under temperature T: the mean over its words of the winning label's tempered probability. */
export function temperedScore(words: readonly ArrayLike<number>[], temperature: number): number {
  let sum = 0;
  for (const logits of words) sum += temperedWinner(logits, temperature);
  return sum / words.length;
}

export interface TemperatureFit {
  temperature: number;
  /** The entity-level NLL at that temperature. */
  nll: number;
}

/** What fitting needs of an entity: its words' logits and whether it is right. */
export interface LogitOutcome {
  logits: readonly ArrayLike<number>[];
  correct: boolean;
}

const GRID_POINTS = 41;
/** Golden-section stops when the bracket is this narrow in log T (T known to 1e-6 relative). */
const LOG_TOLERANCE = 1e-6;

/** The temperature minimising the entity-level NLL of `samples` (see the header). */
export function fitTemperature(samples: readonly LogitOutcome[], range: readonly [number, number] = TEMPERATURE_RANGE): TemperatureFit {
  if (samples.length === 0) throw new RangeError("fitTemperature needs at least one entity");
  // Each word once, shifted by its max (logit - max ≤ 0), so that each evaluation is a sum of exps.
  const shifted = samples.map((s) =>
    s.logits.map((row) => {
      let max = -Infinity;
      for (let l = 0; l < row.length; l++) max = Math.max(max, row[l]);
      return Float64Array.from(row as ArrayLike<number>, (v) => v - max);
    }),
  );
  const nllAt = (logT: number): number => {
    const t = Math.exp(logT);
    const outcomes: ScoredOutcome[] = shifted.map((words, i) => {
      let score = 0;
      for (const row of words) {
        let sum = 0;
        for (let l = 0; l < row.length; l++) sum += Math.exp(row[l] / t);
        score += 1 / sum;
      }
      return { score: score / words.length, correct: samples[i].correct };
    });
    return negativeLogLikelihood(outcomes);
  };
  const low = Math.log(range[0]);
  const high = Math.log(range[1]);
  const grid = Array.from({ length: GRID_POINTS }, (_, i) => low + ((high - low) * i) / (GRID_POINTS - 1));
  const values = grid.map(nllAt);
  let best = 0;
  for (let i = 1; i < grid.length; i++) if (values[i] < values[best]) best = i;
  let a = grid[Math.max(0, best - 1)];
  let b = grid[Math.min(grid.length - 1, best + 1)];
  const ratio = (Math.sqrt(5) - 1) / 2;
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = nllAt(c);
  let fd = nllAt(d);
  while (b - a > LOG_TOLERANCE) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = nllAt(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = nllAt(d);
    }
  }
  // Where the NLL is not unimodal inside the bracket, the search can end worse than the grid's best: keep the better.
  const candidates = [[(a + b) / 2, nllAt((a + b) / 2)], [grid[best], values[best]]];
  candidates.sort((x, y) => x[1] - y[1]);
  const [logT, nll] = candidates[0];
  return { temperature: Math.exp(logT), nll };
}
