// serve's drift monitor: the drift statistics (metrics/drift.ts) of the most recent `window`
// documents the server annotated, against the model's reference profile. A document enters a
// ring; when the ring is full the oldest leaves; both only add or take the document's own bins
// from running counts, so a document costs O(its entities) and a read (/metrics, /v1/monitor)
// O(bins × types), never O(window). Also a series of entities per 1,000 characters per
// SERIES_BUCKET_MS (one minute) of wall time, the last SERIES_LENGTH buckets, for the UI.
// Without a reference profile the monitor is off and says why. A promotion (switchTo) brings the new
// model version's profile, or its absence, and restarts the window: documents the old version read
// are not the new one's (the entity-rate series goes on: it compares with no reference).
// What it leaves out: documents `nerkit worker`s annotate (they never pass through the server),
// and requests with an aggregation other than the reference's (first): their scores differ.

import { Gauge, Registry } from "prom-client";
import { DocumentBins, DriftCounts, ProfiledDocument, SCORE_EDGES, documentBins } from "../../metrics/drift.js";
import { DriftStatistic, MIN_DOCUMENTS, MIN_ENTITIES, compareDrift } from "../../metrics/drift-compare.js";
import { ReferenceProfile, ReferenceProfileMeta } from "../../metrics/reference-profile.js";
import { shares } from "../../metrics/psi.js";

export const SERIES_BUCKET_MS = 60_000;
export const SERIES_LENGTH = 60;

export interface DriftMonitorOptions {
  /** Documents in the rolling window (--drift-window). */
  window: number;
  /** PSI above which a statistic alerts (--drift-psi). */
  psiThreshold: number;
  /** Documents the window needs before any statistic may alert: MIN_DOCUMENTS, or the window when smaller. */
  minDocuments?: number;
  /** Entities both sides need before a score or label statistic may alert. */
  minEntities?: number;
  /** The clock of the entity-rate series (tests pass their own). */
  now?: () => number;
}

interface SeriesBucket {
  start: number;
  documents: number;
  entities: number;
  chars: number;
}

/** The `drift` key of GET /v1/monitor. */
export interface DriftReport {
  enabled: boolean;
  /** The model version whose reference profile, and whose documents, the window holds (with a model registry). */
  modelVersion?: string;
  /** Why drift monitoring is off (enabled false). */
  reason?: string;
  window: number;
  documents: number;
  entities: number;
  psiThreshold: number;
  minDocuments: number;
  minEntities: number;
  alert: boolean;
  reference?: ReferenceProfileMeta & { documents: number; entities: number };
  statistics: DriftStatistic[];
  histograms?: { edges: readonly number[]; reference: number[]; current: number[] };
  entityRateSeries: { start: string; documents: number; entities: number; entitiesPer1000Chars: number }[];
}

export class DriftMonitor {
  private ring: DocumentBins[] = [];
  private next = 0;
  private counts = new DriftCounts();
  private readonly series: SeriesBucket[] = [];
  private readonly now: () => number;
  readonly minDocuments: number;
  readonly minEntities: number;

  constructor(
    private reference: ReferenceProfile | undefined,
    private readonly options: DriftMonitorOptions,
    /** Why there is no reference (shown by /v1/monitor). */
    private reason?: string,
    /** The model version the reference belongs to. */
    public modelVersion?: string,
  ) {
    this.now = options.now ?? Date.now;
    this.minDocuments = options.minDocuments ?? Math.min(MIN_DOCUMENTS, options.window);
    this.minEntities = options.minEntities ?? MIN_ENTITIES;
  }

  get enabled(): boolean {
    return this.reference !== undefined;
  }

  /** Another model version serves: its reference profile (or why it has none), and an empty window. */
  switchTo(version: string, source: { profile: ReferenceProfile } | { reason: string }): void {
    this.reference = "profile" in source ? source.profile : undefined;
    this.reason = "reason" in source ? source.reason : undefined;
    this.modelVersion = version;
    this.ring = [];
    this.next = 0;
    this.counts = new DriftCounts();
  }

  /** One annotated document enters the window (and the oldest leaves when it is full). */
  observe(doc: ProfiledDocument): void {
    if (!this.reference) return;
    const bins = documentBins(doc);
    if (this.ring.length < this.options.window) this.ring.push(bins);
    else {
      this.counts.remove(this.ring[this.next]);
      this.ring[this.next] = bins;
      this.next = (this.next + 1) % this.options.window;
    }
    this.counts.add(bins);
    const start = Math.floor(this.now() / SERIES_BUCKET_MS) * SERIES_BUCKET_MS;
    let bucket = this.series[this.series.length - 1];
    if (!bucket || bucket.start !== start) {
      this.series.push((bucket = { start, documents: 0, entities: 0, chars: 0 }));
      if (this.series.length > SERIES_LENGTH) this.series.shift();
    }
    bucket.documents++;
    bucket.entities += doc.entities.length;
    bucket.chars += doc.chars;
  }

  /** The window's running counts (read-only use: tests compare them with a recount). */
  get window(): DriftCounts {
    return this.counts;
  }

  statistics(): DriftStatistic[] {
    if (!this.reference) return [];
    const statistics = compareDrift(this.reference.counts, this.counts, { threshold: this.options.psiThreshold, minDocuments: this.minDocuments, minEntities: this.minEntities });
    // Document statistics need the window's documents too, whatever the reference holds.
    if (this.counts.documents < this.minDocuments) for (const s of statistics) s.alert = false;
    return statistics;
  }

  report(): DriftReport {
    const statistics = this.statistics();
    const base = {
      enabled: this.enabled,
      ...(this.modelVersion !== undefined ? { modelVersion: this.modelVersion } : {}),
      window: this.options.window,
      documents: this.counts.documents,
      entities: this.counts.entities,
      psiThreshold: this.options.psiThreshold,
      minDocuments: this.minDocuments,
      minEntities: this.minEntities,
      alert: statistics.some((s) => s.alert),
      statistics,
      entityRateSeries: this.series.map((b) => ({
        start: new Date(b.start).toISOString(),
        documents: b.documents,
        entities: b.entities,
        entitiesPer1000Chars: b.chars > 0 ? (b.entities * 1000) / b.chars : 0,
      })),
    };
    if (!this.reference) return { ...base, reason: this.reason };
    const ref = this.reference.counts;
    return {
      ...base,
      reference: { ...this.reference.meta, documents: ref.documents, entities: ref.entities },
      histograms: { edges: SCORE_EDGES, reference: shares(ref.score), current: shares(this.counts.score) },
    };
  }
}

/** nerkit_drift_psi{statistic} and nerkit_drift_alert in `registry`, read from the monitor at each scrape. */
export function registerDriftMetrics(registry: Registry, monitor: DriftMonitor): void {
  new Gauge({
    name: "nerkit_drift_psi",
    help: "Population stability index of each drift statistic: the serve window's last documents (--drift-window) against the model's reference-profile.json",
    labelNames: ["statistic"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of monitor.statistics()) this.set({ statistic: s.name }, s.psi);
    },
  });
  new Gauge({
    name: "nerkit_drift_alert",
    help: "1 when a drift statistic's PSI exceeds --drift-psi with enough documents in the window; 0 otherwise (and without a reference profile)",
    registers: [registry],
    collect() {
      this.set(monitor.statistics().some((s) => s.alert) ? 1 : 0);
    },
  });
  new Gauge({
    name: "nerkit_drift_window_documents",
    help: "Documents in the drift monitor's rolling window",
    registers: [registry],
    collect() {
      this.set(monitor.window.documents);
    },
  });
}
