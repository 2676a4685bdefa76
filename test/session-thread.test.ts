// The session in a worker thread (SessionOptions.offMainThread): the same logits bit for bit as on
// the calling thread for every fixture model; a failing batch rejects with ONNX Runtime's message
// and the session goes on; a thread that dies rejects its batch and every later one, and the
// process goes on; release() ends the thread, and an idle thread never keeps the process alive;
// while a long batch runs off-thread the event loop keeps ticking (on-thread it does not).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { Worker } from "node:worker_threads";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { architectureOf } from "../src/model/architecture.js";
import { Batch, SessionOptions, TokenClassifierSession } from "../src/model/session.js";
import { MODEL_KINDS, caseLogits, modelCases, tinyModelDir } from "./model-cases.js";

async function tinySession(options: SessionOptions): Promise<TokenClassifierSession> {
  const checkpoint = loadCheckpoint(tinyModelDir("bert"));
  return TokenClassifierSession.create(architectureOf(checkpoint.config), (name) => checkpoint.weights.tensor(name), { threads: 1, ...options });
}

/** `rows` windows of `length` tokens (ids within bert-tiny's 8,000), all attended. */
function batchOf(rows: number, length: number): Batch {
  return {
    rows,
    length,
    inputIds: BigInt64Array.from({ length: rows * length }, (_, i) => BigInt(100 + ((i * 7) % 7000))),
    attentionMask: new BigInt64Array(rows * length).fill(1n),
  };
}

/** The message a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail("expected a rejection");
}

test("logits off the main thread are bit-identical to those on it, for the fixture batch of every tiny model", async () => {
  for (const kind of MODEL_KINDS) {
    const on = await caseLogits(kind);
    const off = await caseLogits(kind, { offMainThread: true });
    const c = modelCases[kind];
    assert.equal(off.length, c.input_ids.length * c.input_ids[0].length * c.logits_eval[0][0].length, kind);
    assert.deepEqual(Buffer.from(off.buffer, off.byteOffset, off.byteLength), Buffer.from(on.buffer, on.byteOffset, on.byteLength), kind);
  }
});

test("a failing batch rejects with ONNX Runtime's message, as on the main thread, and the session goes on; a dead thread rejects and the process goes on", async () => {
  const on = await tinySession({});
  const off = await tinySession({ offMainThread: true });
  try {
    // 65 positions: one more than bert-tiny's position embeddings hold.
    const tooLong = batchOf(2, 65);
    const expected = await rejection(on.run(tooLong));
    assert.match(expected, /indices element out of data bounds/);
    assert.equal(await rejection(off.run(tooLong)), expected);
    // Wrong sizes fail before ONNX Runtime runs (the tensor's own check), alike too.
    const mismatched = { ...batchOf(2, 8), rows: 3 };
    assert.equal(await rejection(off.run(mismatched)), await rejection(on.run(mismatched)));

    // Queued behind a failing one, a good batch still gets its answer, in order.
    const good = batchOf(3, 16);
    const [failed, after] = await Promise.allSettled([off.run(tooLong), off.run(good)]);
    assert.equal(failed.status, "rejected");
    assert.equal(after.status, "fulfilled");
    assert.deepEqual(after.value, await on.run(good));

    // The thread dies (terminated from outside, as an out-of-memory kill would end it): the batch in
    // flight and every later one reject, saying so; this process is not taken down.
    const worker = (off as unknown as { runner: { worker: Worker } }).runner.worker;
    const inFlight = off.run(good);
    const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
    void worker.terminate();
    assert.equal(await exited, 1);
    assert.match(await rejection(inFlight), /the ONNX Runtime worker thread stopped \(exit code 1\); the model must be loaded again/);
    assert.match(await rejection(off.run(good)), /worker thread stopped/);
  } finally {
    await on.release();
    await off.release();
  }
});

test("release() ends the thread, and an idle thread does not keep the process alive", async () => {
  const sessionModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "src", "model", "session.js")).href;
  const checkpointModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "src", "model", "checkpoint", "load-checkpoint.js")).href;
  const architectureModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "src", "model", "architecture.js")).href;
  // A process that runs one batch off-thread, releases the session or not, and must then exit by itself.
  const script = (release: boolean) => `
    import { TokenClassifierSession } from ${JSON.stringify(sessionModule)};
    import { loadCheckpoint } from ${JSON.stringify(checkpointModule)};
    import { architectureOf } from ${JSON.stringify(architectureModule)};
    const checkpoint = loadCheckpoint(${JSON.stringify(tinyModelDir("bert"))});
    const session = await TokenClassifierSession.create(architectureOf(checkpoint.config), (n) => checkpoint.weights.tensor(n), { threads: 1, offMainThread: true });
    const logits = await session.run({ rows: 1, length: 4, inputIds: new BigInt64Array([101n, 2000n, 3000n, 102n]), attentionMask: new BigInt64Array(4).fill(1n) });
    ${release ? "await session.release(); console.log('released', logits.length, await session.run({ rows: 1, length: 1, inputIds: new BigInt64Array(1), attentionMask: new BigInt64Array(1) }).catch((e) => e.message));" : "console.log('kept', logits.length);"}
  `;
  const run = promisify(execFile);
  const released = await run(process.execPath, ["--input-type=module", "-e", script(true)], { timeout: 20_000 });
  assert.equal(released.stdout.trim(), "released 36 the session was released");
  const kept = await run(process.execPath, ["--input-type=module", "-e", script(false)], { timeout: 20_000 });
  assert.equal(kept.stdout.trim(), "kept 36");
});

/** The ticks of a 10 ms interval while `work` runs, the longest gap between them, and how long it ran. */
async function ticksDuring(work: () => Promise<unknown>): Promise<{ ticks: number; gapMs: number; runMs: number }> {
  let last = performance.now();
  let gapMs = 0;
  let ticks = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    gapMs = Math.max(gapMs, now - last);
    last = now;
    ticks++;
  }, 10);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(ticker);
  }
  const runMs = performance.now() - started;
  return { ticks, gapMs: Math.max(gapMs, performance.now() - last), runMs };
}

test("the event loop keeps ticking while a long batch runs off the main thread (on it, it stops for the whole run)", async (t) => {
  // 2048 windows of 64 tokens on bert-tiny: 0.5-1 s of ONNX Runtime on one thread.
  const batch = batchOf(2048, 64);
  const on = await tinySession({});
  const off = await tinySession({ offMainThread: true });
  try {
    await off.run(batchOf(2, 8)); // the thread's first run pays for its warm-up, not the measure
    await on.run(batchOf(2, 8));
    const offThread = await ticksDuring(() => off.run(batch));
    const onThread = await ticksDuring(() => on.run(batch));
    const summary = `10 ms ticks: off-thread ${offThread.ticks}, longest gap ${offThread.gapMs.toFixed(0)} ms during a ${offThread.runMs.toFixed(0)} ms run; on-thread ${onThread.ticks}, longest gap ${onThread.gapMs.toFixed(0)} ms during a ${onThread.runMs.toFixed(0)} ms run`;
    t.diagnostic(summary);
    assert.ok(offThread.runMs > 300 && onThread.runMs > 300, `the runs were too short to tell: ${summary}`);
    // On the main thread the run is one synchronous call: no tick for most of it.
    assert.ok(onThread.gapMs > 0.8 * onThread.runMs, summary);
    // Off it, ticks keep coming: at least half of those due, none more than 50 ms late. Measured on
    // 2 shared cores: longest gaps 14-31 ms during 0.8-1.8 s runs (on-thread: the whole run).
    assert.ok(offThread.ticks >= offThread.runMs / 10 / 2, summary);
    assert.ok(offThread.gapMs < 60, summary);
  } finally {
    await on.release();
    await off.release();
  }
});
