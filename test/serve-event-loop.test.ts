// The event loop stays free while long texts are read: a real `nerkit serve` (the tiny fixture
// model, one thread) reads several 100,000-character texts at once while /healthz is polled every
// 20 ms; /healthz keeps answering quickly and the server's peak memory stays bounded. Before the
// texts were read in slices with turns for the event loop, the same load held /healthz for seconds.
// Texts over --max-text-chars are refused (413) and requests past --max-chars-in-flight wait their
// turn (503 + Retry-After) without disturbing the ones being read.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fixturesDir, repoRoot } from "./helpers.js";

const tinyDir = join(fixturesDir, "hf", "bert-tiny");
/** Peak resident memory the server may reach: ~130 MiB idle, ~+60 MiB per 100,000 characters read at once. */
const PEAK_RSS_BOUND = 700 * 2 ** 20;

function longText(chars: number, seed: number): string {
  const words = ["Angela", "Merkel", "visited", "Paris", "on", "Monday.", "The", "weather", "was", "fine,", "said", "Müller."];
  let text = `${seed} `;
  for (let i = seed; text.length < chars; i++) text += words[i % words.length] + " ";
  return text.slice(0, chars);
}

test("/healthz answers within 100 ms (95th percentile) while 6 texts of 100,000 characters are read; memory stays bounded", async () => {
  const child = spawn(process.execPath, [join(repoRoot, "bin", "nerkit.js"), "serve", "--model", tinyDir, "--port", "0", "--no-log", "--threads", "1", "--db", ":memory:", "--max-chars-in-flight", "600000"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
        const url = /listening on (\S+)/.exec(stderr)?.[1];
        if (url && stderr.includes("ready")) resolve(url);
      });
      child.on("exit", () => reject(new Error(stderr)));
    });
    const post = (text: string) => fetch(`${address}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }) });

    const tooLong = await post(longText(200_001, 0));
    assert.equal(tooLong.status, 413);
    assert.equal(((await tooLong.json()) as { error: { code: string } }).error.code, "E_TEXT_TOO_LONG");

    const latencies: number[] = [];
    let reading = true;
    const poll = (async () => {
      while (reading) {
        const started = performance.now();
        const response = await fetch(`${address}/healthz`);
        await response.text();
        assert.equal(response.status, 200);
        latencies.push(performance.now() - started);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const read = Promise.all(Array.from({ length: 6 }, (_, i) => post(longText(100_000, i + 1)).then(async (r) => ({ status: r.status, body: (await r.json()) as { entities?: unknown[] } }))));
    // Sent while the six hold the whole budget (600,000 characters in flight): refused, not queued.
    await new Promise((r) => setTimeout(r, 300));
    const overBudget = await post(longText(1000, 9));
    const answers = await read;
    reading = false;
    await poll;

    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 200]);
    assert.ok(answers.every((a) => Array.isArray(a.body.entities)));
    assert.equal(overBudget.status, 503);
    assert.equal(overBudget.headers.get("retry-after"), "1");
    latencies.sort((a, b) => a - b);
    const p95 = latencies[Math.floor(0.95 * latencies.length)];
    assert.ok(latencies.length >= 20, `only ${latencies.length} polls: the texts were read too fast to measure anything`);
    assert.ok(p95 < 100, `/healthz 95th percentile ${p95.toFixed(0)} ms over ${latencies.length} polls (max ${latencies[latencies.length - 1].toFixed(0)} ms)`);
    const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) * 1024;
    assert.ok(peak < PEAK_RSS_BOUND, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
});
