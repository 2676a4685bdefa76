// Span editing, pure: a span is {start, end, label} (other fields, such as a score, ride along),
// half-open in UTF-16 units of the text (JavaScript string indices, as the API gives them), and a
// list is kept sorted with no overlaps. Every function returns new values and touches no DOM, so
// node runs its tests (test/ui-spans.test.ts). What it leaves out: nested or overlapping spans.

/** Words as nerkit's word tokenizer sees them: runs of letters, marks and digits, or one other non-space character. */
const WORD = /[\p{L}\p{M}\p{N}]+|\S/gu;

/** The words of `text` as [start, end) pairs. */
export function words(text) {
  return [...text.matchAll(WORD)].map((m) => [m.index, m.index + m[0].length]);
}

export function sortSpans(spans) {
  return [...spans].sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Two lists hold the same spans (start, end and label; order and other fields aside). */
export function sameSpans(a, b) {
  const key = (spans) => sortSpans(spans).map((s) => `${s.start}:${s.end}:${s.label}`).join(" ");
  return a.length === b.length && key(a) === key(b);
}

/** A mouse selection [start, end) grown to whole words; undefined when it holds no word. */
export function snapToWords(text, start, end) {
  const inside = words(text).filter(([s, e]) => s < end && e > start);
  if (inside.length === 0) return undefined;
  return { start: inside[0][0], end: inside[inside.length - 1][1] };
}

/** Adds `span`, dropping the spans it overlaps; returns the list and the new span's index. */
export function addSpan(spans, span) {
  const kept = spans.filter((s) => s.end <= span.start || s.start >= span.end);
  const sorted = sortSpans([...kept, span]);
  return { spans: sorted, index: sorted.indexOf(span) };
}

export function removeSpan(spans, index) {
  return spans.filter((_, i) => i !== index);
}

/** The span at `index` with a new label (its score, which was the model's for the old label, dropped). */
export function relabel(spans, index, label) {
  return spans.map((s, i) => (i === index && s.label !== label ? { start: s.start, end: s.end, label } : s));
}

const isHigh = (code) => code >= 0xd800 && code <= 0xdbff;
const isLow = (code) => code >= 0xdc00 && code <= 0xdfff;

/** One character from `offset` in `direction`, never stopping inside a surrogate pair. */
function stepChar(text, offset, direction) {
  const next = offset + direction;
  return next > 0 && next < text.length && isHigh(text.charCodeAt(next - 1)) && isLow(text.charCodeAt(next)) ? next + direction : next;
}

/** The next word boundary (a word's start when moving a start, its end when moving an end) past `offset`. */
function stepWord(text, offset, direction, edge) {
  const bounds = words(text).map(([s, e]) => (edge === "start" ? s : e));
  return direction < 0 ? bounds.filter((b) => b < offset).at(-1) : bounds.find((b) => b > offset);
}

/**
 * The list with span `index`'s `edge` ("start" or "end") moved one character or word (`unit`) left
 * (direction -1) or right (+1). A move that would empty the span, leave the text or run into a
 * neighbour leaves the list as it is (the same array, so a caller can tell).
 */
export function moveBoundary(text, spans, index, edge, direction, unit = "char") {
  const span = spans[index];
  if (!span) return spans;
  const from = span[edge];
  const to = unit === "word" ? stepWord(text, from, direction, edge) : stepChar(text, from, direction);
  const moved = { start: span.start, end: span.end, label: span.label, [edge]: to };
  const before = spans[index - 1];
  const after = spans[index + 1];
  if (to === undefined || moved.start < 0 || moved.end > text.length || moved.start >= moved.end) return spans;
  if ((before && before.end > moved.start) || (after && after.start < moved.end)) return spans;
  return spans.map((s, i) => (i === index ? moved : s));
}

/** Documents [{text, spans}] as the span JSONL `nerkit train` reads: {"text", "spans": [{start, end, label, text}]} per line. */
export function toJsonl(documents) {
  return documents
    .map((doc) => {
      const spans = sortSpans(doc.spans).map((s) => ({ start: s.start, end: s.end, label: s.label, text: doc.text.slice(s.start, s.end) }));
      return JSON.stringify({ text: doc.text, spans }) + "\n";
    })
    .join("");
}

/** A label the readers accept: not empty, no white space. */
export function validLabel(label) {
  return typeof label === "string" && label !== "" && !/\s/.test(label);
}
