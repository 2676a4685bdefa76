// Review: the queue of job results routed to review (GET /v1/review), one document at a time in the
// span editor; an auto-accepted document of the audit sample shows an "audit" mark and is reviewed alike. Enter saves (POST /v1/review/:id: "correct" with every span when anything changed,
// else "accept"), a accepts as proposed, r rejects, Esc undoes, n / p skip; the next item follows.
// Beside the position: the document's informativeness and the queue's order (serve --review-order).
// The reviewer's name is remembered in localStorage.

import { api, modelTypes } from "./api.js";
import { say } from "./dom.js";
import { createEditor } from "./editor.js";
import { sameSpans, sortSpans } from "./spans.js";

const REVIEWER_ITEM = "nerkit.reviewer";
/** Items asked for at once; the rest of the queue comes when these are done. */
const PAGE = 100;

/** What the model proposed: its entities but those routing rejected (which "accept" does not keep either). */
function proposed(item) {
  return sortSpans(item.entities.filter((e) => e.decision !== "reject").map((e) => ({ start: e.start, end: e.end, label: e.type, score: e.score, raw_score: e.raw_score })));
}

export function reviewPage(section) {
  const $ = (id) => section.querySelector(`#review-${id}`);
  const status = $("status");
  const reviewer = $("reviewer");
  let items = [];
  let position = 0;
  let known = [];
  let order = "";
  let busy = false;

  const types = () => {
    const seen = items.flatMap((item) => item.entities.map((e) => e.type)).concat(editor.spans.map((s) => s.label));
    return [...known, ...[...new Set(seen)].filter((t) => !known.includes(t)).sort()];
  };
  const editor = createEditor({ view: $("view"), legend: $("legend"), list: $("spans"), selectedLine: $("selected") }, { types, onChange: () => showChanged() });

  reviewer.value = localStorage.getItem(REVIEWER_ITEM) ?? "";
  reviewer.addEventListener("change", () => localStorage.setItem(REVIEWER_ITEM, reviewer.value.trim()));

  const current = () => items[position];
  const changed = () => current() !== undefined && !sameSpans(editor.spans, proposed(current()));

  function showChanged() {
    $("submit").firstChild.textContent = changed() ? "Save correction " : "Accept ";
    $("item").classList.toggle("changed", changed());
  }

  function show() {
    const item = current();
    $("item").hidden = item === undefined;
    $("audit").hidden = item?.audit !== true;
    const score = typeof item?.informativeness === "number" ? `informativeness ${item.informativeness.toFixed(2)}` : "informativeness not measured";
    $("informativeness").textContent = item ? `${score} · ${order} order` : "";
    $("position").textContent = item ? `Document ${position + 1} of ${items.length}${items.length === PAGE ? "+" : ""} · ${item.id}` : "";
    if (!item) {
      say(status, "The review queue is empty: results of batch jobs (POST /v1/jobs) that need review appear here.");
      return;
    }
    editor.load(item.text, proposed(item));
    showChanged();
  }

  async function load() {
    try {
      let answer;
      [answer, known] = await Promise.all([api(`/v1/review?limit=${PAGE}`), modelTypes()]);
      items = answer.items;
      order = answer.order ?? "";
      position = 0;
      say(status, "");
      show();
    } catch (error) {
      say(status, `Cannot load the queue: ${error.message}`, "error");
    }
  }

  async function submit(action) {
    const item = current();
    const name = reviewer.value.trim();
    if (!item || busy) return;
    if (name === "") {
      say(status, "Enter your name as reviewer first.", "error");
      reviewer.focus();
      return;
    }
    localStorage.setItem(REVIEWER_ITEM, name);
    const spans = editor.spans.map(({ start, end, label }) => ({ start, end, label }));
    busy = true;
    try {
      await api(`/v1/review/${encodeURIComponent(item.id)}`, { body: { reviewer: name, action, ...(action === "correct" ? { spans } : {}) } });
      say(status, `${item.id}: ${action === "correct" ? "correction saved" : action === "accept" ? "accepted" : "rejected"}.`, "ok");
      items.splice(position, 1);
      if (items.length === 0) await load();
      else {
        position = Math.min(position, items.length - 1);
        show();
      }
    } catch (error) {
      say(status, `Not saved: ${error.message}`, "error");
    } finally {
      busy = false;
    }
  }

  const accept = () => (changed() ? say(status, "This document has changes: Enter saves them, Esc undoes them.", "error") : submit("accept"));
  const save = () => submit(changed() ? "correct" : "accept");
  const revert = () => {
    editor.load(current().text, proposed(current()));
    showChanged();
  };
  const step = (delta) => {
    if (items.length === 0) return;
    position = (position + delta + items.length) % items.length;
    show();
  };

  $("submit").addEventListener("click", save);
  $("accept").addEventListener("click", accept);
  $("reject").addEventListener("click", () => submit("reject"));
  $("revert").addEventListener("click", revert);
  $("skip").addEventListener("click", () => step(1));
  $("refresh").addEventListener("click", load);

  return {
    show: () => (items.length === 0 ? load() : editor.render()),
    onKey(event) {
      if (!current() || editor.handleKey(event)) return true;
      const actions = { a: accept, r: () => submit("reject"), Enter: save, Escape: revert, n: () => step(1), p: () => step(-1) };
      actions[event.key]?.();
      return event.key in actions;
    },
  };
}
