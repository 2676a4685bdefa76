// Keeps every process and thread below this one (the browser playwright-core starts) at this
// process's niceness. Chromium, run as root, sets its own priorities (display threads at nice -8,
// the foreground renderer at 0), which undoes a `nice -n 19` on the command line: on a machine
// shared with other benchmarks the browser would take the CPU the command meant to leave them.
// Priorities are per thread on Linux, so each thread is lowered, every `everyMs`, as Chromium may
// raise one again. Left out: anything when this process is not niced (a run on an idle machine
// keeps Chromium's own priorities), and systems without /proc.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** The parent of each process, from /proc/PID/stat (the field after the command's closing bracket and the state). */
function parents() {
  const parentOf = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // the process ended while we looked
    }
  }
  return parentOf;
}

function descendants(root) {
  const childrenOf = new Map();
  for (const [pid, parent] of parents()) childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), pid]);
  const found = [];
  const stack = [...(childrenOf.get(root) ?? [])];
  while (stack.length) {
    const pid = stack.pop();
    found.push(pid);
    stack.push(...(childrenOf.get(pid) ?? []));
  }
  return found;
}

/** Starts keeping the descendants of this process at its niceness; returns what stops it, and a count of the threads lowered. */
export function keepNiced(everyMs = 500) {
  const nice = getPriority();
  const state = { lowered: 0, stop: () => {} };
  if (nice <= 0 || !existsSync("/proc/self/stat")) return state;
  const lower = () => {
    for (const pid of descendants(process.pid)) {
      let threads;
      try {
        threads = readdirSync(`/proc/${pid}/task`).map(Number);
      } catch {
        continue;
      }
      for (const tid of threads) {
        try {
          if (getPriority(tid) < nice) {
            setPriority(tid, nice);
            state.lowered++;
          }
        } catch {
          // the thread ended while we looked
        }
      }
    }
  };
  const timer = setInterval(lower, everyMs);
  timer.unref();
  state.stop = () => clearInterval(timer);
  return state;
}
