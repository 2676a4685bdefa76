// The offline page's script: loads the model beside the page (./model/) with nerkit/web, marks the
// entities of the text, and writes a redacted copy in the chosen style. The "hash" placeholders use
// a key drawn once per page load, so the same name gets the same placeholder within the page and a
// different one after a reload. Errors (a model folder without tokenizer.json, a graph the runtime
// cannot run) are shown in the page as nerkit words them. Left out: options (the defaults: words
// labelled by their first piece, the whole text read in windows).

import { loadPipeline, redact } from "./nerkit-web.js";

const $ = (id) => document.getElementById(id);
const key = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
let pipeline;
let last;

function showError(error) {
  const status = $("status");
  status.classList.add("error");
  status.setAttribute("role", "alert");
  status.textContent = error && error.name === "NerkitError" ? `${error.file ? `${error.file}: ` : ""}${error.message}` : `Unexpected error: ${error && error.message ? error.message : error}`;
}

/** The text with each entity in a <mark data-type>; an entity overlapping the previous one is left unmarked. */
function showEntities(text, entities) {
  const out = $("marked");
  out.replaceChildren();
  let at = 0;
  for (const entity of [...entities].sort((a, b) => a.start - b.start)) {
    if (entity.start < at) continue;
    out.append(text.slice(at, entity.start));
    const mark = document.createElement("mark");
    mark.dataset.type = entity.type;
    mark.dataset.start = String(entity.start);
    mark.dataset.end = String(entity.end);
    mark.title = `${entity.type}, score ${entity.score.toFixed(3)}`;
    mark.textContent = text.slice(entity.start, entity.end);
    out.append(mark);
    at = entity.end;
  }
  out.append(text.slice(at));
}

function showRedacted() {
  if (!last) return;
  const style = $("style").value;
  $("redacted").value = redact(last.text, last.entities, { style, salt: key }).text;
  $("copy").disabled = false;
}

async function run() {
  const text = $("text").value;
  try {
    $("run").disabled = true;
    const [entities] = await pipeline.run([text]);
    last = { text, entities };
    showEntities(text, entities);
    showRedacted();
    $("status").textContent = `${entities.length} entit${entities.length === 1 ? "y" : "ies"} found.`;
  } catch (error) {
    showError(error);
  } finally {
    $("run").disabled = false;
  }
}

$("run").addEventListener("click", run);
$("style").addEventListener("change", showRedacted);
$("copy").addEventListener("click", () => navigator.clipboard.writeText($("redacted").value));

try {
  pipeline = await loadPipeline(new URL("model/", document.baseURI).href);
  $("status").textContent = `Model loaded (${pipeline.arch.labels.length} labels). Paste a text and press Find entities.`;
  $("run").disabled = false;
} catch (error) {
  showError(error);
}
