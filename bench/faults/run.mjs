// Fault injection against a real `nerkit serve` (issue 10 §6): for each fault of faults.mjs and each
// combination it applies to (SQLite or PostgreSQL; the server annotating jobs itself, or two
// `nerkit worker` processes through Redis), a job of --docs documents is posted, the fault is
// injected mid-job while live /v1/entities traffic runs, and the table says what came of it:
// documents stored once, lost or doubled (read from the database itself), failed live requests,
// processes that exited on their own, the time from the end of the fault until the job ended and
// /healthz said ok, and how the job ended. Everything runs on loopback with the test helpers'
// throwaway PostgreSQL and Redis and the random-weight fixture model; every process is stopped by
// its pid at the end, on error and on the global time limit too.
//
// Usage (after `npm run build`): NERKIT_SHARED=/path/to/shared node bench/faults/run.mjs
//   [--docs 2000] [--quick] [--only serve-kill,pg-restart] [--backends sqlite,postgres]
//   [--workers 0,2] [--timeout-s 900] [--recover-s 60] [--hold-ms 5000] [--json FILE]
// --quick: 500 documents, one combination per fault, 3 s faults, a 3-minute limit. The full run took
// about 10 minutes on a shared, heavily loaded 2-core machine: its limit is 15.
// What it leaves out: faults of the machine itself (disk, clock, memory) and throughput figures
// (bench/serve/batch.mjs measures those).

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fixturesDir } from "../../dist/test/helpers.js";
import { FAULTS } from "./faults.mjs";
import { Stack, registry } from "./stack.mjs";
import { describeFailures, liveTraffic } from "./traffic.mjs";

const argv = process.argv.slice(2);
const flag = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const quick = argv.includes("--quick");

const docs = Number(flag("docs", quick ? 500 : 2000));
const timeoutS = Number(flag("timeout-s", quick ? 180 : 900));
const recoverS = Number(flag("recover-s", quick ? 30 : 60));
const holdMs = Number(flag("hold-ms", quick ? 3000 : 5000));
const workerCount = 2;
const settings = {
  chunk: Number(flag("chunk", 8)),
  maxQueue: Number(flag("max-queue", 64)),
  sweepMs: Number(flag("sweep-ms", 2000)),
  lockMs: Number(flag("lock-ms", 10_000)),
  stalledMs: Number(flag("stalled-ms", 5000)),
};
const burstSize = Number(flag("burst", 100));
const model = flag("model", join(fixturesDir, "hf", "bert-tiny"));
if (!existsSync(join(model, "config.json"))) {
  console.error(`no model at ${model}: set NERKIT_SHARED to the shared folder (fixtures/hf/bert-tiny) or give --model`);
  process.exit(2);
}
const only = flag("only", undefined)?.split(",");
const backends = flag("backends", "sqlite,postgres").split(",");
const workerSettings = flag("workers", `0,${workerCount}`).split(",").map(Number);

/** --quick's one combination per fault: the cheapest that still shows the fault. */
const QUICK = new Map([
  ["serve-kill", "sqlite/0"],
  ["worker-kill", "sqlite/2"],
  ["pg-terminate", "postgres/0"],
  ["pg-restart", "postgres/2"],
  ["sqlite-lock", "sqlite/0"],
  ["redis-restart", "sqlite/2"],
  ["redis-down", "postgres/2"],
  ["worker-term-no-redis", "sqlite/2"],
  ["overload", "sqlite/0"],
  ["overload-connections", "sqlite/0"],
]);

const texts = Array.from({ length: docs }, (_, i) => `Note ${i}: Maria Lindqvist flew from Lima to Osaka for the Red Cross.`);
const body = texts.map((text, i) => JSON.stringify({ id: `d${i}`, text })).join("\n") + "\n";
const started = performance.now();
const deadline = started + timeoutS * 1000;
const rows = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (from, to = performance.now()) => (to - from) / 1000;
const log = (line) => process.stderr.write(`[${seconds(started).toFixed(0).padStart(4)} s] ${line}\n`);

// ---- the global limit and clean-up: every process the run started, by its pid ----
/** The row in progress, named in the table if the limit stops it. */
let current;
let cleaning = false;
async function cleanUp() {
  if (cleaning) return;
  cleaning = true;
  for (const entry of registry) {
    try {
      process.kill(entry.pid(), "SIGKILL");
    } catch {
      // already gone
    }
  }
  await Promise.allSettled([...registry].map((entry) => entry.stop()));
}
const hardLimit = setTimeout(async () => {
  log(`the run passed its limit of ${timeoutS} s: stopping every process`);
  rows.push({ ...current, label: current?.label ?? "(between rows)", skipped: `stopped in the middle: the run's limit of ${timeoutS} s was reached` });
  await cleanUp();
  printTable();
  process.exit(3);
}, timeoutS * 1000);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    log(`${signal}: stopping every process`);
    await cleanUp();
    process.exit(130);
  });
}

// ---- one row ----
async function submit(stack) {
  const r = await fetch(`${stack.url}/v1/jobs`, { method: "POST", headers: { "content-type": "application/x-ndjson" }, body });
  if (r.status !== 202) throw new Error(`POST /v1/jobs answered ${r.status}: ${await r.text()}`);
  return (await r.json()).id;
}

/** Until a tenth of the documents are stored; false if the job ended first (the fault would come too late). */
async function waitMidJob(stack, id) {
  const enough = Math.max(settings.chunk, Math.floor(docs / 10));
  const until = performance.now() + 60_000;
  for (;;) {
    const exits = stack.unexpectedExits();
    if (exits.length > 0) throw new Error(`${exits[0].role} exited before the fault: ${exits[0].tail}`);
    const job = await stack.job(id);
    if (job && (job.status === "done" || job.status === "failed")) return false;
    if (job && job.done >= enough) return true;
    if (performance.now() > until) throw new Error(`fewer than ${enough} documents stored after 60 s: ${JSON.stringify(job)}`);
    await sleep(10);
  }
}

async function healthy(stack) {
  try {
    const r = await fetch(`${stack.url}/healthz`, { signal: AbortSignal.timeout(2000) });
    const json = await r.json();
    return r.status === 200 && json.status === "ok" && json.jobDatabase === undefined;
  } catch {
    return false;
  }
}

/**
 * From the end of the fault: when the job stored its next result again (resumed), when it ended and
 * when /healthz said ok (null: not within the limit). The job's end includes the annotation of what
 * was left of it; resumed is the recovery itself.
 */
async function recover(stack, id, faultEnd) {
  const until = Math.min(faultEnd + recoverS * 1000, deadline - 15_000);
  let resumedAt = null, jobAt = null, healthyAt = null, job;
  let doneAtEnd;
  while (performance.now() < until && (jobAt === null || healthyAt === null)) {
    job = (await stack.job(id)) ?? job;
    if (job) {
      doneAtEnd ??= job.done;
      const ended = job.status === "done" || job.status === "failed";
      if (resumedAt === null && (job.done > doneAtEnd || ended)) resumedAt = seconds(faultEnd);
      if (jobAt === null && ended) jobAt = seconds(faultEnd);
    }
    if (healthyAt === null && (await healthy(stack))) healthyAt = seconds(faultEnd);
    await sleep(100);
  }
  return { resumedAt, jobAt, healthyAt, job: (await stack.job(id)) ?? job };
}

function endState(job, jobAt) {
  if (!job) return "unreadable";
  if (jobAt === null) return `STUCK: ${job.status} ${job.done}/${job.total} after ${recoverS} s`;
  return job.status === "done" ? "finished" : `failed: ${job.error ?? "(no reason given)"}`;
}

async function runRow(fault, backend, workers) {
  const row = { label: fault.label, name: fault.name, backend, workers, docs, notes: [] };
  const stack = new Stack({ backend, workers, model, settings });
  log(`${fault.name} on ${backend} with ${workers} worker(s)`);
  try {
    await stack.start();
    const id = await submit(stack);
    if (!fault.name.startsWith("overload") && !(await waitMidJob(stack, id))) row.notes.push("JOB ENDED BEFORE THE FAULT: not a mid-job fault");
    const traffic = fault.name.startsWith("overload") ? undefined : liveTraffic(stack.url);
    const faultStart = performance.now();
    const injected = await fault.inject(stack, { holdMs, burstSize });
    const faultEnd = performance.now();
    const { notes, traffic: burstStats } = Array.isArray(injected) ? { notes: injected } : injected;
    row.notes.push(...notes);
    row.faultSeconds = seconds(faultStart, faultEnd);
    row.traffic = burstStats ?? (await traffic.stop());
    const { resumedAt, jobAt, healthyAt, job } = await recover(stack, id, faultEnd);
    row.resumedAt = resumedAt;
    row.jobAt = jobAt;
    row.healthyAt = healthyAt;
    row.state = endState(job, jobAt);
    row.counts = await stack.counts(id, docs, job?.status);
    if (row.counts.unfinished) row.notes.push(`${row.counts.unfinished} document(s) without a result in the failed job`);
    if (row.counts.stray) row.notes.push(`${row.counts.stray} result(s) for documents never submitted`);
    if (row.counts.mismatched) row.notes.push(`${row.counts.mismatched} document(s) stored under another id`);
    if (row.counts.documents !== docs) row.notes.push(`${row.counts.documents} document rows for ${docs} submitted`);
    if (job && job.done !== row.counts.once + row.counts.doubled && job.status === "done") row.notes.push(`done_count ${job.done} ≠ results ${row.counts.once + row.counts.doubled}`);
  } catch (error) {
    row.error = error.message.split("\n")[0];
    log(`  error: ${error.message}`);
  } finally {
    row.exits = stack.unexpectedExits();
    for (const e of row.exits) row.notes.push(`${e.role} EXITED (code ${e.code}, signal ${e.signal}): ${e.tail}`);
    await stack.stop();
  }
  log(`  ${describeRow(row)}`);
  return row;
}

// ---- the table ----
const cell = (v) => String(v).replace(/\|/g, "\\|").replace(/\n/g, " ");
function describeRow(r) {
  return r.skipped ?? r.error ?? `${r.counts?.once}/${r.docs} once, lost ${r.counts?.lost}, doubled ${r.counts?.doubled}, ${r.state}`;
}
function recoverCell(r) {
  if (r.jobAt == null && r.healthyAt == null) return "—";
  const at = (s) => (s === null ? `> ${recoverS}` : s.toFixed(1));
  return `${at(r.resumedAt)} / ${at(r.jobAt)} / ${at(r.healthyAt)}`;
}
function printTable() {
  const lines = [
    `Faults: ${docs} documents per job (bert-tiny fixture), serve --max-batch ${settings.chunk} --max-queue ${settings.maxQueue} --sweep-interval-ms ${settings.sweepMs}; workers: ${workerCount}, --lock-duration-ms ${settings.lockMs} --stalled-interval-ms ${settings.stalledMs}; faults held ${holdMs / 1000} s; run ${seconds(started).toFixed(0)} s`,
    "",
    "| fault | backend | workers | submitted | stored once | lost | doubled | failed requests / sent | 503 + Retry-After | process exits | recover (s): job resumed / ended / healthz ok | job end state | notes |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    if (r.skipped || r.error) {
      lines.push(`| ${cell(r.label)} | ${r.backend ?? ""} | ${r.workers ?? ""} | — | — | — | — | — | — | ${r.exits?.length ?? "—"} | — | ${cell(r.skipped ? `not run: ${r.skipped}` : `BENCH ERROR: ${r.error}`)} | ${cell(r.notes?.join("; ") ?? "")} |`);
      continue;
    }
    const t = r.traffic;
    lines.push(
      `| ${cell(r.label)} | ${r.backend} | ${r.workers} | ${r.docs} | ${r.counts.once} | ${r.counts.lost} | ${r.counts.doubled} | ${cell(describeFailures(t))} / ${t.sent} | ${t.overloaded} | ${r.exits.length} | ${recoverCell(r)} | ${cell(r.state)} | ${cell(r.notes.join("; "))} |`,
    );
  }
  console.log(lines.join("\n"));
}

// ---- the run ----
try {
  for (const fault of FAULTS) {
    if (only && !only.includes(fault.name)) continue;
    for (const backend of backends) {
      for (const workers of workerSettings) {
        const combo = `${backend}/${workers}`;
        const why = fault.applies({ backend, workers });
        if (why) {
          if (!quick) rows.push({ label: fault.label, backend, workers, skipped: `does not apply (${why})` });
          continue;
        }
        if (quick && QUICK.get(fault.name) !== combo) continue;
        if (performance.now() > deadline - 40_000) {
          rows.push({ label: fault.label, backend, workers, skipped: "the run's time limit is near" });
          continue;
        }
        current = { label: fault.label, backend, workers };
        rows.push(await runRow(fault, backend, workers));
        current = undefined;
      }
    }
  }
} finally {
  clearTimeout(hardLimit);
  await cleanUp();
}
printTable();
const jsonFile = flag("json", undefined);
if (jsonFile) {
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, JSON.stringify(rows.map((r) => ({ ...r, traffic: r.traffic && { ...r.traffic, reasons: Object.fromEntries(r.traffic.reasons) } })), null, 2));
}
const findings = rows.filter((r) => r.error || (r.counts && (r.counts.lost || r.counts.doubled)) || r.exits?.length || r.state?.startsWith("STUCK"));
log(`${rows.length} rows, ${findings.length} with a finding (lost, doubled, an exit, a stuck job or a bench error)`);
process.exit(findings.length > 0 ? 1 : 0);
