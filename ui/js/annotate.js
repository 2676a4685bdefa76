// Annotate: raw text becomes documents (one per line, or one in all), optionally pre-annotated by
// the model (POST /v1/entities), edited with the span editor, and downloaded as the span JSONL that
// `nerkit train` reads. Custom types join the model's. Everything stays in the page until downloaded.

import { api, modelTypes } from "./api.js";
import { say } from "./dom.js";
import { createEditor } from "./editor.js";
import { addSpan, toJsonl, validLabel } from "./spans.js";

/** Texts per request when pre-annotating (the server takes up to --max-texts, 256 by default). */
const CHUNK = 64;

function documentsOf(raw, split) {
  if (split === "whole") return raw.trim() === "" ? [] : [raw];
  return raw.split(/\r?\n/).filter((line) => line.trim() !== "");
}

/** The model's entities as spans, those routing rejected left out. */
async function preAnnotate(texts) {
  const spans = [];
  for (let i = 0; i < texts.length; i += CHUNK) {
    const { documents } = await api("/v1/entities", { body: { texts: texts.slice(i, i + CHUNK) } });
    for (const doc of documents) {
      const kept = doc.entities.filter((e) => e.decision !== "reject").map((e) => ({ start: e.start, end: e.end, label: e.type, score: e.score, raw_score: e.raw_score }));
      spans.push(kept.reduce((list, span) => addSpan(list, span).spans, []));
    }
  }
  return spans;
}

export function annotatePage(section) {
  const $ = (id) => section.querySelector(`#annotate-${id}`);
  const status = $("status");
  let docs = [];
  let position = 0;
  let known = [];
  const custom = [];

  const types = () => {
    const used = docs.flatMap((d) => d.spans.map((s) => s.label));
    return [...new Set([...known, ...custom, ...used])];
  };
  const editor = createEditor({ view: $("view"), legend: $("legend"), list: $("spans"), selectedLine: $("selected") }, {
    types,
    onChange: (spans) => (docs[position].spans = spans),
  });

  function show() {
    $("work").hidden = docs.length === 0;
    if (docs.length === 0) return;
    $("position").textContent = `Document ${position + 1} of ${docs.length}`;
    editor.load(docs[position].text, docs[position].spans);
  }

  const step = (delta) => {
    if (docs.length === 0) return;
    position = Math.max(0, Math.min(docs.length - 1, position + delta));
    show();
  };

  $("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const split = section.querySelector("input[name=annotate-split]:checked").value;
    const texts = documentsOf($("text").value, split);
    if (texts.length === 0) return say(status, "There is no text to annotate.", "error");
    known = await modelTypes();
    let spans = texts.map(() => []);
    let note = "Select text with the mouse, then press a number key.";
    if ($("model").checked) {
      say(status, "Asking the model …");
      try {
        spans = await preAnnotate(texts);
      } catch (error) {
        note = `The model could not pre-annotate (${error.message}): the documents start without entities.`;
      }
    }
    docs = texts.map((text, i) => ({ text, spans: spans[i] }));
    position = 0;
    say(status, `${docs.length} document${docs.length === 1 ? "" : "s"} to annotate. ${note}`);
    show();
    $("view").focus();
  });

  $("type-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("new-type");
    const type = input.value.trim();
    if (!validLabel(type)) return say(status, "A type is one word without spaces, such as PRODUCT.", "error");
    if (!types().includes(type)) custom.push(type);
    input.value = "";
    editor.render();
    const key = types().indexOf(type) + 1;
    say(status, key <= 9 ? `Type ${type} is key ${key}.` : `Type ${type} has no number key: click it in the list of types.`);
  });

  $("previous").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("download").addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([toJsonl(docs)], { type: "application/x-ndjson" }));
    const link = Object.assign(document.createElement("a"), { href: url, download: "annotations.jsonl" });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    say(status, `Downloaded ${docs.length} document${docs.length === 1 ? "" : "s"} (train with: nerkit train --train annotations.jsonl …).`, "ok");
  });

  return {
    show: () => docs.length > 0 && editor.render(),
    onKey(event) {
      if (docs.length === 0) return false;
      if (editor.handleKey(event)) return true;
      if (event.key === "n" || event.key === "p") {
        step(event.key === "n" ? 1 : -1);
        return true;
      }
      return false;
    },
  };
}
