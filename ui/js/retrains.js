// Retrains on the Models page: the latest retrains (GET /v1/retrain), newest first, each with its
// status, phase and progress, when it started and ended, the candidate it made, the gate's decision
// and reason, whether the candidate was promoted and, when the gate said promote but the registry
// refused (serve --target-precision and a calibration lacking a target), why; a failed or cancelled
// retrain's reason. A running retrain has a Cancel button (POST /v1/retrain/:id/cancel). Nothing is
// shown when the server has no retrain routes (404). Reloaded with the Models page.

import { api } from "./api.js";
import { el, say } from "./dom.js";

const SHOWN = 10;
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

/** The facts of one retrain, as term and description pairs (undefined ones left out). */
function facts(retrain) {
  const pairs = [
    ["started", when(retrain.createdAt)],
    retrain.finishedAt ? ["ended", when(retrain.finishedAt)] : undefined,
    retrain.status === "running" ? ["progress", `${Math.round(retrain.progress * 100)}% (${retrain.phase})`] : undefined,
    retrain.candidate ? ["candidate", `${retrain.candidate}${retrain.promoted ? " (promoted)" : " (not promoted)"}`] : undefined,
    retrain.gate ? ["gate", `${retrain.gate.decision} — ${retrain.gate.reason}`] : undefined,
    retrain.promotionRefused ? ["promotion refused", retrain.promotionRefused] : undefined,
    retrain.error ? [retrain.status === "cancelled" ? "cancelled" : "failed", retrain.error] : undefined,
  ].filter((p) => p !== undefined);
  return el("dl", { class: "facts" }, ...pairs.flatMap(([term, text]) => [el("dt", {}, term), el("dd", { "data-fact": term }, text)]));
}

/** The retrains list in `list`, messages in `status`; `changed` runs after a cancel (the versions may have changed). */
export function retrainsPanel(list, status, changed) {
  const cancel = async (retrain) => {
    say(status, `Cancelling ${retrain.id}…`);
    try {
      const answer = await api(`/v1/retrain/${encodeURIComponent(retrain.id)}/cancel`, { method: "POST" });
      await load();
      await changed();
      say(status, `${answer.id} is ${answer.status}.`, "ok");
    } catch (error) {
      say(status, `${retrain.id}: ${error.message}`, "error");
    }
  };

  const card = (retrain) => {
    const button = retrain.status === "running" ? el("button", { type: "button", class: "danger", "data-action": "cancel" }, "Cancel") : undefined;
    button?.addEventListener("click", () => void cancel(retrain));
    return el(
      "article",
      { class: "card retrain", "data-retrain": retrain.id, "data-status": retrain.status },
      el("div", { class: "row between" }, el("h3", {}, `Retrain ${retrain.id} `, el("span", { class: `badge status-${retrain.status}` }, retrain.status)), button),
      facts(retrain),
    );
  };

  async function load() {
    let answer;
    try {
      answer = await api(`/v1/retrain?limit=${SHOWN}`);
    } catch (error) {
      list.replaceChildren();
      if (error.status !== 404) say(status, `Cannot load the retrains: ${error.message}`, "error");
      return;
    }
    list.replaceChildren(...answer.retrains.map(card));
    say(status, answer.retrains.length === 0 ? "No retrain yet." : `The latest ${answer.retrains.length} retrain${answer.retrains.length === 1 ? "" : "s"}.`);
  }

  return { load };
}
