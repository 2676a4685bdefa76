// A reliability diagram in inline SVG (no scripts): per bin of the ECE's 15 equal-width bins, a bar
// as high as the share of right entities, drawn over the bin's score range, a dot at (the bin's
// mean score, its accuracy), the diagonal that a perfectly calibrated model's dots lie on, and each
// bin's count above its bar. Hovering a bar or dot shows its numbers.

import { ReliabilityBin } from "./quality.js";

const SIZE = 300;
const LEFT = 44;
const TOP = 22;
const BOTTOM = 40;

const fixed = (x: number) => x.toFixed(3);

/** The diagram of one reliability table; `caption` names the scores (raw, calibrated). */
export function reliabilityDiagram(bins: readonly ReliabilityBin[], caption: string): string {
  const x = (v: number) => LEFT + v * SIZE;
  const y = (v: number) => TOP + (1 - v) * SIZE;
  const parts: string[] = [];
  parts.push(`<rect x="${LEFT}" y="${TOP}" width="${SIZE}" height="${SIZE}" fill="none" stroke="#ccc"/>`);
  parts.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 3"/>`);
  for (const tick of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    parts.push(`<text x="${x(tick)}" y="${y(0) + 14}" text-anchor="middle" class="v">${tick}</text>`);
    parts.push(`<text x="${LEFT - 6}" y="${y(tick) + 4}" text-anchor="end" class="v">${tick}</text>`);
  }
  parts.push(`<text x="${x(0.5)}" y="${y(0) + 32}" text-anchor="middle">confidence (score)</text>`);
  parts.push(`<text x="12" y="${y(0.5)}" text-anchor="middle" transform="rotate(-90 12 ${y(0.5)})">accuracy</text>`);
  for (const bin of bins) {
    if (bin.count === 0) continue;
    const accuracy = bin.accuracy!;
    const confidence = bin.confidence!;
    const title = `<title>[${fixed(bin.low)}, ${fixed(bin.high)}): ${bin.count} entities, mean score ${fixed(confidence)}, accuracy ${fixed(accuracy)}</title>`;
    parts.push(`<rect x="${x(bin.low).toFixed(1)}" y="${y(accuracy).toFixed(1)}" width="${((bin.high - bin.low) * SIZE - 1).toFixed(1)}" height="${(accuracy * SIZE).toFixed(1)}" fill="#4e79a7" fill-opacity="0.75">${title}</rect>`);
    parts.push(`<circle cx="${x(confidence).toFixed(1)}" cy="${y(accuracy).toFixed(1)}" r="3" fill="#e15759">${title}</circle>`);
    parts.push(`<text x="${x((bin.low + bin.high) / 2).toFixed(1)}" y="${(y(accuracy) - 4).toFixed(1)}" text-anchor="middle" class="v">${bin.count}</text>`);
  }
  parts.push(`<text x="${x(0.5)}" y="14" text-anchor="middle">${caption.replace(/[&<>"']/g, "")}</text>`);
  return `<svg width="${LEFT + SIZE + 16}" height="${TOP + SIZE + BOTTOM}" role="img" aria-label="reliability diagram, ${caption.replace(/[&<>"']/g, "")}">${parts.join("")}</svg>`;
}
