// Monitor: what GET /v1/monitor says about the model in production. Drift: its status and the PSI
// of each statistic against the model's reference profile, the raw-score histogram of the recent
// documents beside the reference's, and the entity rate per minute. Audit: precision per type
// estimated from the audit sample with its 95% interval, beside the review-based (biased) estimate;
// "no audit data" when the server gives none. Reloaded on each visit and by the button.

import { api } from "./api.js";
import { el, say, svg } from "./dom.js";

const W = 560;
const H = 200;
const PAD = { left: 40, right: 10, top: 10, bottom: 30 };

const fixed = (x, digits = 3) => (x === null || x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits));

/** Reference and current shares per score bin, side by side; the y axis is the larger share. */
function scoreChart(histograms) {
  const { edges, reference, current } = histograms;
  const max = Math.max(0.01, ...reference, ...current);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / edges.length;
  const y = (share) => PAD.top + plotH * (1 - share / max);
  const bars = [];
  edges.forEach((edge, i) => {
    const label = `${edge.toFixed(1)}–${(edges[i + 1] ?? 1).toFixed(1)}`;
    const x = PAD.left + i * slot;
    for (const [k, series, shares] of [[0, "reference", reference], [1, "current", current]]) {
      const share = shares[i];
      bars.push(
        svg(
          "rect",
          { class: `bar-${series}`, "data-bin": i, "data-share": share, x: x + 4 + k * (slot / 2 - 4), y: y(share), width: slot / 2 - 4, height: Math.max(0, PAD.top + plotH - y(share)) },
          svg("title", {}, `${series === "reference" ? "reference" : "recent documents"}, raw score ${label}: ${(share * 100).toFixed(1)}%`),
        ),
      );
    }
    bars.push(svg("text", { x: x + slot / 2, y: H - 12, "text-anchor": "middle", class: "axis" }, edge.toFixed(1)));
  });
  return svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Raw-score histogram: reference and recent documents", class: "chart", id: "monitor-score-svg" },
    svg("line", { x1: PAD.left, x2: W - PAD.right, y1: PAD.top + plotH, y2: PAD.top + plotH, class: "axis-line" }),
    svg("text", { x: PAD.left - 4, y: PAD.top + 8, "text-anchor": "end", class: "axis" }, `${Math.round(max * 100)}%`),
    svg("text", { x: PAD.left - 4, y: PAD.top + plotH, "text-anchor": "end", class: "axis" }, "0"),
    ...bars,
  );
}

/** Entities per 1,000 characters per minute bucket, as a line with a dot per bucket. */
function rateChart(series) {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const max = Math.max(1, ...series.map((b) => b.entitiesPer1000Chars));
  const x = (i) => PAD.left + (series.length === 1 ? plotW / 2 : (plotW * i) / (series.length - 1));
  const y = (v) => PAD.top + plotH * (1 - v / max);
  const points = series.map((b, i) => `${x(i).toFixed(1)},${y(b.entitiesPer1000Chars).toFixed(1)}`).join(" ");
  const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Entities per 1,000 characters per minute", class: "chart", id: "monitor-rate-svg" },
    svg("line", { x1: PAD.left, x2: W - PAD.right, y1: PAD.top + plotH, y2: PAD.top + plotH, class: "axis-line" }),
    svg("text", { x: PAD.left - 4, y: PAD.top + 8, "text-anchor": "end", class: "axis" }, max.toFixed(0)),
    svg("text", { x: PAD.left - 4, y: PAD.top + plotH, "text-anchor": "end", class: "axis" }, "0"),
    svg("polyline", { points, class: "rate-line" }),
    ...series.map((b, i) => svg("circle", { cx: x(i), cy: y(b.entitiesPer1000Chars), r: 3, class: "rate-point", "data-rate": b.entitiesPer1000Chars }, svg("title", {}, `${time(b.start)}: ${b.entitiesPer1000Chars.toFixed(1)} entities per 1,000 characters (${b.documents} documents)`))),
    series.length > 0 ? svg("text", { x: PAD.left, y: H - 12, class: "axis" }, time(series[0].start)) : undefined,
    series.length > 1 ? svg("text", { x: W - PAD.right, y: H - 12, "text-anchor": "end", class: "axis" }, time(series[series.length - 1].start)) : undefined,
  );
}

function statisticsTable(drift) {
  const state = (s) => (s.alert ? "alert" : s.tooFew ? "too few" : "ok");
  return el(
    "table",
    { id: "monitor-statistics" },
    el("caption", {}, `PSI against the reference (alert above ${drift.psiThreshold})`),
    el("thead", {}, el("tr", {}, ...["statistic", "PSI", "in window", "status"].map((h) => el("th", { scope: "col" }, h)))),
    el(
      "tbody",
      {},
      ...drift.statistics.map((s) =>
        el("tr", { "data-statistic": s.name, class: `drift-${state(s).replace(" ", "-")}` }, el("th", { scope: "row" }, s.name), el("td", { class: "number" }, fixed(s.psi)), el("td", { class: "number" }, String(s.observations)), el("td", {}, state(s))),
      ),
    ),
  );
}

/** Whether the server's audit answer has any estimate to show. */
function hasAuditRows(audit) {
  return Boolean(audit) && ((audit.perType ?? []).length > 0 || (audit.reviewBased ?? []).length > 0);
}

/** Why there is nothing to show: no audit key, the sample turned off, or no reviewed document yet. */
function noAuditText(audit) {
  if (!audit) return "no audit data";
  if (audit.rate === 0) return "no audit data: the audit sample is off (--audit-rate 0)";
  return `no audit data yet: no reviewed document (audit rate ${audit.rate}, seed ${audit.seed})`;
}

function auditTable(audit) {
  const rows = [
    ...(audit.perType ?? []).map((r) =>
      el("tr", { "data-type": r.type, class: "audit-unbiased" }, el("th", { scope: "row" }, r.type), el("td", {}, "audit sample"), el("td", { class: "number" }, String(r.reviewed)), el("td", { class: "number" }, String(r.kept)), el("td", { class: "number precision" }, fixed(r.precision)), el("td", { class: "number interval" }, `${fixed(r.low)} – ${fixed(r.high)}`)),
    ),
    ...(audit.reviewBased ?? []).map((r) =>
      el("tr", { "data-type": r.type, class: "audit-biased" }, el("th", { scope: "row" }, r.type), el("td", {}, "all reviews (biased)"), el("td", { class: "number" }, String(r.reviewed)), el("td", { class: "number" }, String(r.kept)), el("td", { class: "number precision" }, fixed(r.precision)), el("td", { class: "number interval" }, "–")),
    ),
  ];
  return el(
    "table",
    { id: "monitor-audit-table" },
    el("caption", {}, `Precision per type (audit rate ${audit.rate}, seed ${audit.seed}); interval: 95% Wilson`),
    el("thead", {}, el("tr", {}, ...["type", "estimate from", "reviewed", "kept", "precision", "95% interval"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows),
  );
}

export function monitorPage(section) {
  const $ = (id) => section.querySelector(`#monitor-${id}`);
  const status = $("status");

  function render(answer) {
    const drift = answer.drift;
    const badge = $("drift-status");
    const state = !drift?.enabled ? "off" : drift.alert ? "alert" : "ok";
    badge.textContent = state === "off" ? "off" : state === "alert" ? "drift alert" : "no drift";
    badge.className = `badge drift-${state}`;
    if (!drift?.enabled) {
      $("drift-summary").textContent = drift?.reason ?? "The server reports no drift monitoring.";
      $("drift-details").hidden = true;
    } else {
      const ref = drift.reference;
      $("drift-summary").textContent =
        `${drift.documents} of the last ${drift.window} documents in the window (alerts need ${drift.minDocuments}); ` +
        `reference: ${ref.documents} ${ref.data.unit} of ${ref.data.path}, made by ${ref.madeBy} on ${ref.created.slice(0, 10)}.`;
      $("statistics").replaceChildren(statisticsTable(drift));
      $("score-chart").replaceChildren(scoreChart(drift.histograms));
      $("rate-chart").replaceChildren(drift.entityRateSeries.length === 0 ? el("p", { class: "muted" }, "No documents yet.") : rateChart(drift.entityRateSeries));
      $("drift-details").hidden = false;
    }
    $("audit").replaceChildren(hasAuditRows(answer.audit) ? auditTable(answer.audit) : el("p", { class: "muted", id: "monitor-no-audit" }, noAuditText(answer.audit)));
  }

  async function load() {
    say(status, "Loading …");
    try {
      render(await api("/v1/monitor"));
      say(status, `Updated ${new Date().toLocaleTimeString()}.`);
    } catch (error) {
      say(status, error.message, "error");
    }
  }
  $("refresh").addEventListener("click", load);
  return { show: load };
}
