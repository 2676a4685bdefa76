// Live /v1/entities traffic against the server under test: a steady stream (a few requests at a
// time, one after another) while a fault lasts, and a burst of many concurrent requests for the
// overload fault. Each answer is counted as ok (200), overloaded (503 with Retry-After: the
// service shedding load as documented, not a failure) or failed (anything else: another status, a
// 503 without Retry-After, a refused or reset connection, no answer within 5 s), with the reasons.
// What it leaves out: checking the entities themselves (the parity tests do that).

const TEXT = "Maria Lindqvist flew from Lima to Osaka for the Red Cross.";
const BODY = JSON.stringify({ text: TEXT });
const TIMEOUT_MS = 5000;

function newStats() {
  return { sent: 0, ok: 0, overloaded: 0, failed: 0, reasons: new Map() };
}

async function one(url, stats, body = BODY, timeoutMs = TIMEOUT_MS) {
  stats.sent++;
  try {
    const r = await fetch(`${url}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    if (r.status === 200) stats.ok++;
    else if (r.status === 503 && Number(r.headers.get("retry-after")) >= 1) stats.overloaded++;
    else fail(stats, `HTTP ${r.status}`);
    return true;
  } catch (error) {
    fail(stats, error.cause?.code ?? error.name ?? String(error));
    return false;
  }
}

function fail(stats, reason) {
  stats.failed++;
  stats.reasons.set(reason, (stats.reasons.get(reason) ?? 0) + 1);
}

/** Starts `concurrency` request loops against url; stop() ends them and answers the counts. */
export function liveTraffic(url, concurrency = 2) {
  const stats = newStats();
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      // A refused connection answers at once: pause, as a client would, rather than spin.
      if (!(await one(url, stats))) await new Promise((r) => setTimeout(r, 100));
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return stats;
    },
  };
}

/**
 * `count` requests at once (fetch's connection pool opens as many sockets), each of `texts` texts,
 * each allowed timeoutMs (a client under overload waits longer than the steady stream's 5 s).
 */
export async function burst(url, count, { texts = 1, timeoutMs = 15_000 } = {}) {
  const stats = newStats();
  const body = texts === 1 ? BODY : JSON.stringify({ texts: Array.from({ length: texts }, () => TEXT) });
  await Promise.all(Array.from({ length: count }, () => one(url, stats, body, timeoutMs)));
  return stats;
}

/** "3 (ECONNREFUSED 2, HTTP 500 1)" */
export function describeFailures(stats) {
  if (stats.failed === 0) return "0";
  return `${stats.failed} (${[...stats.reasons].map(([why, n]) => `${why} ${n}`).join(", ")})`;
}
