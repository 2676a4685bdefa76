// Drift monitoring end to end on the tiny fixture model: `nerkit profile` and `nerkit train` write
// reference-profile.json; the service, given a profile of CoNLL-2003 dev sentences, keeps the alert
// off for a stream of test sentences and turns it on for the same sentences lower-cased (a cased
// model's vocabulary splits lower-cased names into many pieces, and the model reads them
// differently); /metrics and GET /v1/monitor carry it; without a profile drift is off and says why.

import assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FastifyInstance } from "fastify";
import { parseConll } from "../src/data/conll.js";
import { NerPipeline, loadPipeline } from "../src/infer/pipeline.js";
import { ReferenceProfile, parseReferenceProfile } from "../src/metrics/reference-profile.js";
import { BuildAppOptions, buildApp } from "../src/serve/app.js";
import { loadReferenceProfile } from "../src/serve/drift/reference.js";
import { jobStatus, submitJob } from "./job-routes.js";
import { spawnNerkit } from "./processes.js";
import { profileTexts } from "../src/serve/drift/profile-writer.js";
import { DriftReport } from "../src/serve/drift/monitor.js";
import { conllDir, fixturesDir, nerkit, repoRoot, tempDir } from "./helpers.js";

const tiny = join(fixturesDir, "hf", "bert-tiny");
const dir = tempDir("nerkit-drift-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** The sentences of a CoNLL-2003 file as texts (words joined by spaces), -DOCSTART- lines left out. */
function sentences(file: string): string[] {
  return parseConll(readFileSync(join(conllDir, file), "utf8"), { file }).sentences.map((s) => s.tokens.join(" ")).filter((t) => t !== "-DOCSTART-");
}

test("nerkit profile writes reference-profile.json from .txt lines and from CoNLL -DOCSTART- documents", () => {
  const model = join(dir, "profile-model");
  cpSync(tiny, model, { recursive: true });
  const lines = join(dir, "texts.txt");
  writeFileSync(lines, "Alice met Bob in Paris.\n\nSiemens opened an office in Berlin.\nNothing here\n");
  const run = nerkit(["profile", "--model", model, "--data", lines, "--threads", "1"]);
  assert.equal(run.code, 0, run.stderr);
  const file = join(model, "reference-profile.json");
  const profile = parseReferenceProfile(readFileSync(file, "utf8"), file);
  assert.equal(profile.meta.madeBy, "nerkit profile");
  assert.deepEqual(profile.meta.data.documents, 3);
  assert.equal(profile.meta.data.unit, "lines");
  assert.equal(profile.counts.documents, 3);
  assert.ok(profile.counts.entities > 0 && profile.counts.rarePieces.reduce((a, b) => a + b) === 3);
  assert.match(run.stdout, /3 lines/);

  const conll = nerkit(["profile", "--model", model, "--data", join(repoRoot, "examples", "demo", "gold.conll"), "--threads", "1"]);
  assert.equal(conll.code, 0, conll.stderr);
  const again = parseReferenceProfile(readFileSync(file, "utf8"), file);
  assert.match(again.meta.data.unit, /^(sentences|-DOCSTART- documents)$/);
  assert.equal(again.meta.data.sha256.length, 64);

  const missing = nerkit(["profile", "--model", model, "--data", join(dir, "nope.txt")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.txt/);
  assert.doesNotMatch(missing.stderr, /at .*\.js:\d+/, "no stack trace");
});

test("nerkit train writes reference-profile.json on its --dev data with the saved model", () => {
  const out = join(dir, "trained");
  const demo = join(repoRoot, "examples", "demo", "gold.conll");
  const run = nerkit(["train", "--model", tiny, "--train", demo, "--dev", demo, "--out", out, "--max-steps", "2", "--batch-size", "4", "--threads", "1"]);
  assert.equal(run.code, 0, run.stderr);
  const file = join(out, "reference-profile.json");
  assert.ok(existsSync(file), run.stderr);
  const profile = parseReferenceProfile(readFileSync(file, "utf8"), file);
  assert.equal(profile.meta.madeBy, "nerkit train");
  assert.equal(profile.meta.data.path, demo);
  assert.ok(profile.counts.documents > 0);
  assert.match(run.stderr, /reference profile/);
});

test("nerkit serve reads the model folder's profile and the drift flags; without a profile it says so in one line", async () => {
  const model = join(dir, "serve-model");
  cpSync(tiny, model, { recursive: true });
  const bare = spawnNerkit(["serve", "--model", model, "--port", "0", "--db", ":memory:", "--no-log", "--threads", "1"]);
  try {
    await bare.waitFor(/listening on/);
    assert.equal(bare.stderr().match(/drift monitoring is off: the model folder has no reference-profile\.json/g)?.length, 1, bare.stderr());
  } finally {
    bare.child.kill("SIGTERM");
    await bare.exited;
  }
  const lines = join(dir, "serve-texts.txt");
  writeFileSync(lines, "Alice met Bob in Paris.\nSiemens opened an office in Berlin.\n");
  assert.equal(nerkit(["profile", "--model", model, "--data", lines, "--threads", "1"]).code, 0);
  const server = spawnNerkit(["serve", "--model", model, "--port", "0", "--db", ":memory:", "--no-log", "--threads", "1", "--drift-window", "50", "--drift-psi", "0.3"]);
  try {
    const [, address] = await server.waitFor(/listening on (http:\/\/\S+)/);
    assert.doesNotMatch(server.stderr(), /drift monitoring is off/);
    const drift = ((await (await fetch(`${address}/v1/monitor`)).json()) as { drift: DriftReport }).drift;
    assert.equal(drift.enabled, true);
    assert.equal(drift.window, 50);
    assert.equal(drift.psiThreshold, 0.3);
    assert.equal(drift.minDocuments, 50);
    assert.equal(drift.reference?.madeBy, "nerkit profile");
    assert.equal(drift.reference?.data.documents, 2);
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  const refused = nerkit(["serve", "--model", model, "--drift-psi", "0"]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--drift-psi/);
});

describe("serve's drift window on CoNLL-2003 sentences", () => {
  let pipeline: NerPipeline;
  let reference: ReferenceProfile;
  const apps: FastifyInstance[] = [];
  const window = 300;
  // The reference: every other dev sentence. Streams: every 11th test sentence (spread over the
  // file: consecutive sentences share a document and its topic), then the same lower-cased.
  // Measured on this model: same stream max PSI 0.055 (rarePieces); lower-cased rarePieces 0.275.
  const stream = () => sentences("test.conll").filter((_, i) => i % 11 === 0).slice(0, window);
  before(async () => {
    pipeline = await loadPipeline(tiny, { threads: 1 });
    const counts = await profileTexts(pipeline, sentences("dev.conll").filter((_, i) => i % 2 === 0));
    const meta = { madeBy: "test", created: new Date().toISOString(), reading: { aggregation: "first", windows: "overlap", scores: "raw" as const }, data: { path: "dev.conll", sha256: "0".repeat(64), documents: counts.documents, unit: "sentences" } };
    reference = { version: 1, meta, counts };
  });
  after(async () => {
    for (const app of apps) await app.close();
    await pipeline?.close();
  });
  /** An app on the shared pipeline (closing it must not release the pipeline the next app uses). */
  const appWith = async (options: Partial<BuildAppOptions>) => {
    const app = await buildApp({ pipeline: { run: (t, o) => pipeline.run(t, o), close: async () => {}, arch: pipeline.arch, tokenizer: pipeline.tokenizer }, ...options });
    apps.push(app);
    return app;
  };
  const monitor = async (app: FastifyInstance) => {
    const r = await app.inject({ method: "GET", url: "/v1/monitor" });
    assert.equal(r.statusCode, 200, r.body);
    return (r.json() as { drift: DriftReport }).drift;
  };
  const send = async (app: FastifyInstance, texts: string[]) => {
    for (let i = 0; i < texts.length; i += 50) {
      const r = await app.inject({ method: "POST", url: "/v1/entities", payload: { texts: texts.slice(i, i + 50) } });
      assert.equal(r.statusCode, 200, r.body);
    }
  };
  const gauge = (metrics: string, name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(metrics)?.[1]);

  test("more CoNLL text keeps the alert off; the same text lower-cased turns it on; /metrics and /v1/monitor say so", async () => {
    const app = await appWith({ config: { driftWindow: window, driftPsi: 0.2 }, drift: { profile: reference } });
    await send(app, stream());
    const same = await monitor(app);
    assert.equal(same.enabled, true);
    assert.equal(same.documents, window);
    assert.equal(same.minDocuments, 200);
    assert.equal(same.alert, false, JSON.stringify(same.statistics));
    assert.ok(same.statistics.every((s) => s.psi < 0.1 && !s.tooFew), JSON.stringify(same.statistics));
    let metrics = (await app.inject("/metrics")).body;
    assert.equal(gauge(metrics, "nerkit_drift_alert"), 0);
    assert.equal(gauge(metrics, 'nerkit_drift_psi{statistic="rarePieces"}'), same.statistics.find((s) => s.name === "rarePieces")!.psi);

    await send(app, stream().map((t) => t.toLowerCase()));
    const shifted = await monitor(app);
    assert.equal(shifted.documents, window, "the window holds only the lower-cased documents now");
    assert.equal(shifted.alert, true, JSON.stringify(shifted.statistics));
    const rare = shifted.statistics.find((s) => s.name === "rarePieces")!;
    assert.ok(rare.alert && rare.psi > 0.2, JSON.stringify(rare));
    metrics = (await app.inject("/metrics")).body;
    assert.equal(gauge(metrics, "nerkit_drift_alert"), 1);
    assert.equal(gauge(metrics, 'nerkit_drift_psi{statistic="rarePieces"}'), rare.psi);
    assert.equal(gauge(metrics, "nerkit_drift_window_documents"), window);

    // What the Monitor page draws: the score histogram (shares) and the entity-rate series.
    assert.equal(shifted.reference?.madeBy, "test");
    assert.equal(shifted.reference?.documents, reference.counts.documents);
    assert.equal(shifted.histograms?.edges.length, 10);
    assert.ok(Math.abs(shifted.histograms!.current.reduce((a, b) => a + b) - 1) < 1e-12);
    assert.ok(Math.abs(shifted.histograms!.reference.reduce((a, b) => a + b) - 1) < 1e-12);
    assert.equal(shifted.entityRateSeries.reduce((n, b) => n + b.documents, 0), 2 * window);
  });

  test("below the minimum of documents a large PSI does not alert; batch jobs and /v1/redact enter the window", async () => {
    const app = await appWith({ config: { driftWindow: window, driftPsi: 0.2 }, drift: { profile: reference } });
    const lower = stream().map((t) => t.toLowerCase()).slice(0, 50);
    await send(app, lower);
    const early = await monitor(app);
    assert.ok(early.statistics.some((s) => s.psi > 0.2), JSON.stringify(early.statistics));
    assert.equal(early.alert, false);

    const job = await submitJob(app, lower.slice(0, 10));
    for (let i = 0; (await jobStatus(app, job.id)).status !== "done"; i++) {
      assert.ok(i < 500, "the job never finished");
      await new Promise((r) => setTimeout(r, 10));
    }
    const redact = await app.inject({ method: "POST", url: "/v1/redact", payload: { text: lower[0] } });
    assert.equal(redact.statusCode, 200, redact.body);
    // Another aggregation scores differently from the reference: not counted.
    const other = await app.inject({ method: "POST", url: "/v1/entities", payload: { text: lower[0], aggregation: "max" } });
    assert.equal(other.statusCode, 200, other.body);
    assert.equal((await monitor(app)).documents, 50 + 10 + 1);
  });

  test("without a reference profile drift is off, and /v1/monitor says why", async () => {
    const model = join(dir, "no-profile");
    cpSync(tiny, model, { recursive: true });
    const lookup = loadReferenceProfile(model);
    assert.ok("reason" in lookup);
    assert.match(lookup.reason, /no reference-profile\.json.*nerkit profile/);
    const app = await appWith({ drift: lookup });
    await send(app, stream().slice(0, 5));
    const report = await monitor(app);
    assert.equal(report.enabled, false);
    assert.equal(report.reason, lookup.reason);
    assert.equal(report.documents, 0);
    assert.deepEqual(report.statistics, []);
    assert.equal(gauge((await app.inject("/metrics")).body, "nerkit_drift_alert"), 0);
    // A broken profile is a reason too, naming the file and field.
    writeFileSync(join(model, "reference-profile.json"), '{"version": 7}');
    const broken = loadReferenceProfile(model);
    assert.ok("reason" in broken && /reference-profile\.json.*version/.test(broken.reason), JSON.stringify(broken));
  });
});
