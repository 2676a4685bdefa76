// Models: the registry's versions (GET /v1/models), oldest first: status, how and when each was made,
// its calibration, and, for a version a retrain made, the gate's scores beside the serving version's
// at the time (micro F1 and F1 per type, with the difference) and its decision. Promote (a candidate),
// roll back (a retired version: promoting it again) and retire (a candidate) call the API and reload.
// "No registry" when the server keeps none. Reloaded on each visit and by the button, with the
// latest retrains below the versions (retrains.js).

import { api } from "./api.js";
import { el, say } from "./dom.js";
import { retrainsPanel } from "./retrains.js";

const percent = (f1) => (typeof f1 === "number" ? (f1 * 100).toFixed(1) : "–");
const signed = (points) => (points >= 0 ? "+" : "−") + Math.abs(points).toFixed(1);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

/** The gate's comparison: micro F1 and each type's F1, candidate beside serving, with the difference in points. */
function gateTable(version) {
  const gate = version.gate;
  const types = [...new Set([...Object.keys(gate.candidate.perType), ...Object.keys(gate.serving.perType)])].sort();
  const row = (name, candidate, serving) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, name),
      el("td", { class: "number" }, percent(candidate)),
      el("td", { class: "number" }, percent(serving)),
      el("td", { class: "number" }, typeof candidate === "number" && typeof serving === "number" ? signed((candidate - serving) * 100) : "–"),
    );
  return el(
    "table",
    { class: "gate-table", "data-version": version.id },
    el("caption", {}, `Gate: ${gate.decision} — ${gate.reason} (gold: ${gate.gold.source}${gate.gold.path ? ` ${gate.gold.path}` : ""}, ${gate.gold.documents} documents)`),
    el("thead", {}, el("tr", {}, ...["F1", version.id, `${gate.serving.version} (serving then)`, "difference (points)"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, row("micro", gate.candidate.microF1, gate.serving.microF1), ...types.map((t) => row(t, gate.candidate.perType[t], gate.serving.perType[t]))),
  );
}

export function modelsPage(section) {
  const status = section.querySelector("#models-status");
  const list = section.querySelector("#models-list");
  const serving = section.querySelector("#models-serving");
  const retrains = retrainsPanel(section.querySelector("#retrains-list"), section.querySelector("#retrains-status"), () => load());

  const act = async (version, action, doing) => {
    say(status, `${doing} ${version.id}…`);
    try {
      const answer = await api(`/v1/models/${encodeURIComponent(version.id)}/${action}`, { method: "POST" });
      await load();
      say(status, `${answer.id} is ${answer.status}.`, "ok");
    } catch (error) {
      say(status, `${version.id}: ${error.message}`, "error");
    }
  };

  const actions = (version) => {
    const buttons = [];
    if (version.status === "candidate") buttons.push(el("button", { type: "button", class: "primary", "data-action": "promote" }, "Promote"));
    if (version.status === "retired") buttons.push(el("button", { type: "button", "data-action": "rollback" }, "Roll back to this"));
    if (version.status === "candidate") buttons.push(el("button", { type: "button", class: "danger", "data-action": "retire" }, "Retire"));
    for (const button of buttons) {
      const action = button.dataset.action;
      button.addEventListener("click", () => void act(version, action === "retire" ? "retire" : "promote", action === "retire" ? "Retiring" : "Promoting"));
    }
    return el("div", { class: "row" }, ...buttons);
  };

  const card = (version) =>
    el(
      "article",
      { class: "card model-version", "data-version": version.id, "data-status": version.status },
      el("div", { class: "row between" }, el("h2", {}, version.id, " ", el("span", { class: `badge status-${version.status}` }, version.status)), actions(version)),
      el(
        "dl",
        { class: "facts" },
        el("dt", {}, "made by"), el("dd", {}, version.madeBy),
        el("dt", {}, "created"), el("dd", {}, when(version.createdAt)),
        version.parent ? el("dt", {}, "parent") : undefined, version.parent ? el("dd", {}, version.parent) : undefined,
        version.promotedAt ? el("dt", {}, "last promoted") : undefined, version.promotedAt ? el("dd", {}, when(version.promotedAt)) : undefined,
        el("dt", {}, "calibration"), el("dd", {}, version.calibration ? `${version.calibration.method}${version.calibration.entities ? ` (${version.calibration.entities} held-out entities)` : ""}` : "none"),
        version.trainingData ? el("dt", {}, "training data") : undefined,
        version.trainingData ? el("dd", {}, `${version.trainingData.files.join(", ")}; ${version.trainingData.reviewedDocuments} reviewed documents; sha256 ${version.trainingData.sha256.slice(0, 12)}…`) : undefined,
        el("dt", {}, "folder"), el("dd", {}, el("code", {}, version.folder)),
      ),
      version.gate ? gateTable(version) : undefined,
    );

  async function load() {
    let answer;
    try {
      answer = await api("/v1/models");
    } catch (error) {
      list.replaceChildren();
      serving.textContent = "";
      say(status, error.status === 404 ? "This server keeps no model registry." : `Cannot load the models: ${error.message}`, error.status === 404 ? "info" : "error");
      return;
    }
    serving.textContent = answer.serving ?? "none";
    // Newest first on the page: the version a person acts on is usually the latest.
    list.replaceChildren(...[...answer.models].reverse().map(card));
    say(status, `${answer.models.length} version${answer.models.length === 1 ? "" : "s"}.`);
  }

  const both = () => Promise.all([load(), retrains.load()]);
  section.querySelector("#models-refresh").addEventListener("click", () => void both());
  return { show: () => void both() };
}
