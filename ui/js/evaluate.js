// Evaluation: shows a report of `nerkit evaluate`. Either gold and predicted CoNLL files, which go to
// POST /v1/evaluate (the library's evaluation, with the confusion tables), or the JSON that
// `nerkit evaluate --format json` writes (the scores only). Overall scores, the per-type table with
// the averages, and where known the confusion between types at entity and token level.

import { api } from "./api.js";
import { el, say } from "./dom.js";

const METRICS = ["precision", "recall", "f1", "accuracy"];
const AVERAGES = ["micro avg", "macro avg", "weighted avg"];
const ERROR_KINDS = { correct: "correct", wrongType: "wrong type", wrongBoundary: "wrong boundary", wrongBoth: "wrong both", missed: "missed", spurious: "spurious" };

const score = (x) => (x === null || x === undefined ? "–" : x.toFixed(4));

function table(caption, head, rows) {
  return el(
    "table",
    {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows),
  );
}

function summary(overall) {
  return el(
    "div",
    { class: "summary" },
    ...METRICS.map((m) => el("div", { class: "figure", "data-metric": m, "data-value": String(overall[m]) }, el("span", { class: "figure-label" }, m === "f1" ? "F1" : m), el("span", { class: "figure-value" }, score(overall[m])))),
  );
}

function scoreCells(row) {
  const bar = el("span", { class: "bar", "aria-hidden": "true" });
  bar.style.setProperty("--value", String(row.f1 ?? 0));
  return [el("td", { class: "number" }, score(row.precision)), el("td", { class: "number" }, score(row.recall)), el("td", { class: "number f1" }, bar, score(row.f1)), el("td", { class: "number" }, String(row.support))];
}

function typeTable(report) {
  const rows = Object.entries(report.types).map(([type, row]) => el("tr", { "data-type": type }, el("th", { scope: "row" }, type), ...scoreCells(row)));
  const averages = AVERAGES.map((name) => el("tr", { class: "average" }, el("th", { scope: "row" }, name), ...scoreCells(report[name])));
  return table("Scores per type", ["type", "precision", "recall", "F1", "support"], [...rows, ...averages]);
}

/** A gold × predicted count table, cells shaded by their share of the largest count. */
function matrix(caption, counts, labels) {
  const max = Math.max(1, ...labels.flatMap((g) => labels.map((p) => counts[g][p])));
  const rows = labels.map((gold) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, gold),
      ...labels.map((pred) => {
        const n = counts[gold][pred];
        const cell = el("td", { class: `number heat ${gold === pred ? "diagonal" : "off"}`, title: `gold ${gold}, predicted ${pred}: ${n}` }, String(n));
        cell.style.setProperty("--heat", String(n / max));
        return cell;
      }),
    ),
  );
  return table(caption, ["gold \\ predicted", ...labels], rows);
}

function confusionTables(confusion) {
  const types = Object.keys(confusion.entityTypes);
  const errors = Object.entries(confusion.entities).map(([type, counts]) => el("tr", {}, el("th", { scope: "row" }, type), ...Object.keys(ERROR_KINDS).map((k) => el("td", { class: "number" }, String(counts[k])))));
  return [
    el("h2", {}, "Confusion between types"),
    el("p", { class: "muted" }, "Gold entities predicted with exactly the right boundaries, by gold type (rows) and predicted type (columns)."),
    matrix("Entity types, exact boundaries", confusion.entityTypes, types),
    table("Entity errors", ["type", ...Object.values(ERROR_KINDS)], errors),
    matrix("Token-level confusion", confusion.tokens, confusion.labels),
  ];
}

function render(container, { report, confusion }, source) {
  container.replaceChildren(
    el(
      "div",
      { class: "card report" },
      el("p", { class: "muted" }, source),
      summary(report.overall),
      typeTable(report),
      ...(confusion ? confusionTables(confusion) : [el("p", { class: "muted" }, "The JSON report holds no confusion tables: evaluate the CoNLL files here to see them.")]),
    ),
  );
  container.hidden = false;
}

/** A report as `nerkit evaluate --format json` writes it, or the answer of POST /v1/evaluate. */
function reportOf(value) {
  const candidate = value?.report ?? value;
  if (typeof candidate?.overall?.f1 !== "number" || typeof candidate.types !== "object") throw new Error("this is not a report of nerkit evaluate --format json");
  return { report: candidate, confusion: value.confusion };
}

export function evaluatePage(section) {
  const $ = (id) => section.querySelector(`#evaluate-${id}`);
  const status = $("status");
  const output = $("report");

  $("conll-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const [gold, pred] = [$("gold").files[0], $("pred").files[0]];
    if (!gold) return;
    const body = { gold: await gold.text(), mode: $("mode").value };
    if (pred) body.pred = await pred.text();
    if ($("scheme").value) body.scheme = $("scheme").value;
    say(status, "Evaluating …");
    try {
      const answer = await api("/v1/evaluate", { body });
      render(output, answer, `${gold.name} against ${pred ? pred.name : "its prediction column"}, ${body.mode} mode${answer.scheme ? ` (${answer.scheme})` : ""}`);
      say(status, "");
    } catch (error) {
      say(status, error.message, "error");
    }
  });

  $("json-file").addEventListener("change", async () => {
    const file = $("json-file").files[0];
    if (file) $("json-text").value = await file.text();
  });
  $("json-form").addEventListener("submit", (event) => {
    event.preventDefault();
    try {
      render(output, reportOf(JSON.parse($("json-text").value)), $("json-file").files[0]?.name ?? "pasted report");
      say(status, "");
    } catch (error) {
      say(status, `Cannot read the report: ${error.message}`, "error");
    }
  });

  return {};
}
