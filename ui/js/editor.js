// The span editor that Review and Annotate share: one document's text and spans, the selected span,
// and the keys and clicks that change them. spans.js does the editing and highlight.js the drawing;
// what a page does with the result (submit, download) is the page's business.

import { el } from "./dom.js";
import { rawScoreTitle, renderLegend, renderSpans, selectedRange } from "./highlight.js";
import { addSpan, moveBoundary, relabel, removeSpan, snapToWords, sortSpans } from "./spans.js";

/** Which boundary and direction each bracket key moves. */
const BOUNDARY_KEYS = {
  "[": ["start", -1],
  "]": ["start", 1],
  "{": ["end", -1],
  "}": ["end", 1],
};

/** The bracket a key event means, by its character or (with Alt, which changes the character on some layouts) its physical key. */
function bracketOf(event) {
  if (event.key in BOUNDARY_KEYS) return event.key;
  if (event.code === "BracketLeft") return event.shiftKey ? "{" : "[";
  if (event.code === "BracketRight") return event.shiftKey ? "}" : "]";
  return undefined;
}

/**
 * parts: {view, legend, list, selectedLine} elements; types(): the types numbered 1–9 in order;
 * onChange(spans): called after every edit.
 */
export function createEditor({ view, legend, list, selectedLine }, { types, onChange = () => {} }) {
  let text = "";
  let spans = [];
  let selected = -1;

  function render() {
    renderSpans(view, text, spans, { selected });
    renderLegend(legend, types(), pick);
    list.replaceChildren(
      ...spans.map((s, i) => {
        const item = el("li", { class: i === selected ? "selected" : undefined, "data-index": String(i) }, el("span", { class: "tag" }, s.label), " ", text.slice(s.start, s.end));
        if (s.score !== undefined) item.append(el("span", { class: "muted", title: rawScoreTitle(s) }, ` ${s.score.toFixed(3)}`));
        item.addEventListener("click", () => select(i));
        return item;
      }),
    );
    const span = spans[selected];
    selectedLine.textContent = span
      ? `Selected: ${span.label} “${text.slice(span.start, span.end)}” [${span.start}, ${span.end})`
      : spans.length === 0
        ? "No entity yet."
        : "No entity selected (j / k).";
    view.querySelector("mark.selected")?.scrollIntoView({ block: "nearest" });
  }

  function select(index) {
    selected = spans.length === 0 ? -1 : Math.max(0, Math.min(spans.length - 1, index));
    render();
  }

  function change(next, nextSelected = selected) {
    if (next === spans) return;
    spans = next;
    selected = Math.min(nextSelected, spans.length - 1);
    render();
    onChange(spans);
  }

  /** A type key or a click in the legend: add the mouse selection as a span, or relabel the selected one. */
  function pick(type) {
    const range = selectedRange(view);
    if (range) {
      const snapped = snapToWords(text, range.start, range.end);
      document.getSelection().removeAllRanges();
      if (!snapped) return;
      const added = addSpan(spans, { ...snapped, label: type });
      change(added.spans, added.index);
    } else if (selected >= 0) {
      change(relabel(spans, selected, type));
    }
  }

  view.addEventListener("click", (event) => {
    const mark = event.target.closest("mark[data-index]");
    if (mark && document.getSelection().isCollapsed) select(Number(mark.dataset.index));
  });

  return {
    load(nextText, nextSpans) {
      text = nextText;
      spans = sortSpans(nextSpans);
      selected = spans.length > 0 ? 0 : -1;
      render();
    },
    get spans() {
      return spans;
    },
    render,
    /** Handles an editing key; true when it was one. */
    handleKey(event) {
      const bracket = bracketOf(event);
      if (bracket) {
        const [edge, direction] = BOUNDARY_KEYS[bracket];
        change(moveBoundary(text, spans, selected, edge, direction, event.altKey ? "word" : "char"));
        return true;
      }
      if (/^[1-9]$/.test(event.key) && !event.altKey) {
        const type = types()[Number(event.key) - 1];
        if (type) pick(type);
        return true;
      }
      switch (event.key) {
        case "j":
        case "ArrowDown":
        case "ArrowRight":
          select(selected + 1);
          return true;
        case "k":
        case "ArrowUp":
        case "ArrowLeft":
          select(selected - 1);
          return true;
        case "Delete":
        case "Backspace":
          if (selected >= 0) change(removeSpan(spans, selected));
          return true;
      }
      return false;
    },
  };
}
