// Try: a text goes to POST /v1/entities with the chosen aggregation; the answer is shown as the text
// with its entities highlighted (score and decision on hover), the document's routing decision,
// a legend of the types and a table of the entities.

import { api } from "./api.js";
import { el, say } from "./dom.js";
import { rawScoreTitle, renderLegend, renderSpans } from "./highlight.js";

export function tryPage(section) {
  const $ = (id) => section.querySelector(`#try-${id}`);
  const status = $("status");
  const form = $("form");

  function showResult(text, answer) {
    const entities = [...answer.entities].sort((a, b) => a.start - b.start || a.end - b.end);
    const decision = $("decision");
    decision.textContent = answer.decision;
    decision.className = `badge decision-${answer.decision}`;
    renderLegend($("legend"), [...new Set(entities.map((e) => e.type))]);
    renderSpans($("view"), text, entities);
    $("table").tBodies[0].replaceChildren(
      ...entities.map((e) =>
        el("tr", { class: `decision-${e.decision}` }, el("td", {}, e.type), el("td", {}, e.text), el("td", { class: "number" }, String(e.start)), el("td", { class: "number" }, String(e.end)), el("td", { class: "number score", title: rawScoreTitle(e) }, e.score.toFixed(3)), el("td", {}, e.decision)),
      ),
    );
    $("result").hidden = false;
    say(status, entities.length === 0 ? "No entity found." : `${entities.length} entit${entities.length === 1 ? "y" : "ies"}.`);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("text").value;
    if (text.trim() === "") return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    say(status, "Asking the model …");
    try {
      showResult(text, await api("/v1/entities", { body: { text, aggregation: $("aggregation").value } }));
    } catch (error) {
      say(status, error.message, "error");
    } finally {
      button.disabled = false;
    }
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  return { show: () => $("text").focus() };
}
