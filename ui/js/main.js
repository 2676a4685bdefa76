// The shell: one page at a time by the URL's hash (#try, #review, #annotate, #evaluate, #monitor, #models), each
// started on its first visit, and the keyboard: ? opens the help, other keys go to the page shown
// unless the user is typing in a field or a dialog is open.

import { annotatePage } from "./annotate.js";
import { evaluatePage } from "./evaluate.js";
import { modelsPage } from "./models.js";
import { monitorPage } from "./monitor.js";
import { reviewPage } from "./review.js";
import { tryPage } from "./try.js";

const PAGES = { try: tryPage, review: reviewPage, annotate: annotatePage, evaluate: evaluatePage, monitor: monitorPage, models: modelsPage };
const started = new Map();
const help = document.getElementById("help-dialog");

const currentName = () => (location.hash.slice(1) in PAGES ? location.hash.slice(1) : "try");

function show() {
  const name = currentName();
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.dataset.page !== name;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.hash === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const section = document.getElementById(`page-${name}`);
  if (!started.has(name)) started.set(name, PAGES[name](section));
  document.title = `${section.querySelector("h1").textContent} · nerkit`;
  started.get(name).show?.();
}

/** Keys typed into a field, or meant for a button or a dialog, are not shortcuts. */
function isShortcut(event) {
  const target = event.target;
  if (event.ctrlKey || event.metaKey || document.querySelector("dialog[open]")) return false;
  if (target.closest("input, textarea, select, [contenteditable]")) return false;
  return !(["Enter", " "].includes(event.key) && target.closest("button, a, summary"));
}

document.addEventListener("keydown", (event) => {
  if (!isShortcut(event)) return;
  if (event.key === "?") {
    help.showModal();
    event.preventDefault();
    return;
  }
  if (started.get(currentName())?.onKey?.(event)) event.preventDefault();
});
document.getElementById("help-open").addEventListener("click", () => help.showModal());
window.addEventListener("hashchange", show);
show();
