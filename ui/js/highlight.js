// Text with its entities as DOM nodes: plain runs become text nodes and each entity a <mark> with
// its type's colour, so user text only ever enters the page as text (never as HTML). Also the legend
// of types, the colour each type gets, and the offset in the text of a point in the rendered DOM.
// The type's name is drawn by CSS (mark::after, attr(data-type)), which keeps it out of the text a
// mouse selects and out of textContent.

import { el } from "./dom.js";

const PALETTE_SIZE = 10;
const colours = new Map([["PER", 0], ["ORG", 1], ["LOC", 2], ["MISC", 3]]);

/** The palette slot of a type: fixed for the CoNLL types, then in order of first sight. */
export function colourOf(type) {
  if (!colours.has(type)) colours.set(type, colours.size % PALETTE_SIZE);
  return colours.get(type);
}

/**
 * A span's score as shown: the score (calibrated when the model has a calibration.json), and the
 * model's raw score beside it when the API gave one; undefined without a score.
 */
export function scoreText(span) {
  if (span.score === undefined) return undefined;
  return span.raw_score === undefined ? `score ${span.score.toFixed(3)}` : `score ${span.score.toFixed(3)} (raw ${span.raw_score.toFixed(3)})`;
}

/** The raw score as a tooltip (title) for a calibrated score; undefined when there is none. */
export function rawScoreTitle(span) {
  return span.raw_score === undefined ? undefined : `calibrated; the model's raw score is ${span.raw_score.toFixed(3)}`;
}

/**
 * Fills `container` with `text` and its spans ({start, end, type (API entities) or label (edited spans), score?, raw_score?, decision?}).
 * A mark's title says its type, score (and raw score, with a calibrated model) and decision.
 * Spans that overlap an earlier one are not drawn. `selected` is the index of the span to outline.
 */
export function renderSpans(container, text, spans, { selected = -1 } = {}) {
  const nodes = [];
  let at = 0;
  spans.forEach((span, index) => {
    if (span.start < at || span.end <= span.start) return;
    if (span.start > at) nodes.push(document.createTextNode(text.slice(at, span.start)));
    const type = span.type ?? span.label;
    const details = [type, scoreText(span), span.decision].filter(Boolean);
    const mark = el("mark", { class: `entity c${colourOf(type)}`, title: details.join(" · "), "data-type": type, "data-index": String(index) }, text.slice(span.start, span.end));
    if (span.decision) mark.classList.add(`decision-${span.decision}`);
    if (index === selected) {
      mark.classList.add("selected");
      mark.setAttribute("aria-current", "true");
    }
    nodes.push(mark);
    at = span.end;
  });
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  container.replaceChildren(...nodes);
}

/** A legend of `types`; with `onPick`, each entry is a button showing its number key (1–9). */
export function renderLegend(container, types, onPick) {
  container.replaceChildren(
    ...types.map((type, i) => {
      const swatch = el("span", { class: `swatch c${colourOf(type)}`, "aria-hidden": "true" });
      if (!onPick) return el("span", { class: "legend-item" }, swatch, type);
      const key = i < 9 ? el("kbd", {}, String(i + 1)) : "";
      const button = el("button", { type: "button", class: "legend-item", title: i < 9 ? `Set type ${type} (key ${i + 1})` : `Set type ${type}` }, key, swatch, type);
      button.addEventListener("click", () => onPick(type));
      return button;
    }),
  );
}

/** The offset in the rendered text of a DOM point (a selection's end) inside `root`. */
export function textOffset(root, node, offset) {
  const range = document.createRange();
  range.setStart(root, 0);
  range.setEnd(node, offset);
  return range.toString().length;
}

/** The current mouse selection as [start, end) in the text shown in `root`, or undefined. */
export function selectedRange(root) {
  const selection = document.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return undefined;
  const range = selection.getRangeAt(0);
  if (!root.contains(range.startContainer) || !root.contains(range.endContainer)) return undefined;
  return { start: textOffset(root, range.startContainer, range.startOffset), end: textOffset(root, range.endContainer, range.endOffset) };
}
