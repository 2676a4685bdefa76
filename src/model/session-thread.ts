// The calling thread's side of an off-main-thread session: starts a worker thread
// (session-worker.ts) with the model (a path, or its bytes), sends it one batch at a time, in the order run() was
// called, and resolves each with the logits it sends back. Batches are copied to the thread (16
// bytes a token: 64 KiB for 8 windows of 512; the caller keeps its arrays); logits come back
// transferred. The hop costs 0.05-0.2 ms a batch (bert-tiny, 1 to 16 windows, on a busy machine).
// A thread that dies (an uncaught error, terminated, out of memory) rejects the batch in flight and
// every later one with an error saying so: the process goes on, the session is spent.
// Left out: restarting a dead thread (the model's bytes are not kept), several threads per session.

import { Worker } from "node:worker_threads";
import type { Batch } from "./session-feeds.js";
import type { SessionWorkerData, SessionWorkerReply } from "./session-worker.js";

/** Where an ONNX Runtime failure happened: the caller words load failures as before. */
export class SessionThreadError extends Error {
  constructor(
    readonly stage: "load" | "run" | "thread",
    message: string,
  ) {
    super(message);
    this.name = "SessionThreadError";
  }
}

interface InFlight {
  resolve: (logits: Float32Array) => void;
  reject: (error: Error) => void;
}

export class SessionThread {
  /** Settles when the last batch queued has its answer: the next one is sent then. */
  private tail: Promise<unknown> = Promise.resolve();
  private inFlight?: InFlight;
  /** Why no more batches run (the thread died or was released). */
  private spent?: Error;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: SessionWorkerReply) => {
      const current = this.inFlight;
      this.inFlight = undefined;
      // Idle, the thread must not keep the process alive (an ONNX Runtime session on the main
      // thread does not either); while a batch runs it does, like any pending I/O.
      worker.unref();
      if (reply.kind === "logits") current?.resolve(reply.logits);
      else if (reply.kind === "run-failed") current?.reject(new SessionThreadError("run", reply.message));
    });
    let uncaught: Error | undefined;
    worker.on("error", (error) => (uncaught = error));
    worker.on("exit", (code) => {
      this.spent ??= new SessionThreadError("thread", `the ONNX Runtime worker thread stopped (exit code ${code}${uncaught ? `: ${uncaught.message}` : ""}); the model must be loaded again`);
      this.inFlight?.reject(this.spent);
      this.inFlight = undefined;
    });
  }

  /** Starts the thread and creates the session there; rejects with ONNX Runtime's message when it cannot. */
  static async start(data: SessionWorkerData): Promise<SessionThread> {
    // execArgv: none of the process's flags, which a thread may refuse (`node --input-type=module -e`
    // made the thread fail to start); the thread runs ONNX Runtime only.
    const worker = new Worker(new URL("./session-worker.js", import.meta.url), { workerData: data, transferList: typeof data.model === "string" ? [] : [data.model.buffer as ArrayBuffer], execArgv: [] });
    // Listeners removed one by one: Worker keeps its own (removeAllListeners would cut its message port off).
    const loaded = await new Promise<SessionWorkerReply | Error>((resolve) => {
      const settle = (outcome: SessionWorkerReply | Error) => {
        worker.off("message", settle).off("error", settle).off("exit", exited);
        resolve(outcome);
      };
      const exited = (code: number) => settle(new Error(`the ONNX Runtime worker thread stopped while loading (exit code ${code})`));
      worker.on("message", settle).on("error", settle).on("exit", exited);
    });
    if (loaded instanceof Error || loaded.kind !== "loaded") {
      await worker.terminate();
      throw new SessionThreadError("load", loaded instanceof Error ? loaded.message : loaded.kind === "load-failed" ? loaded.message : `unexpected ${loaded.kind}`);
    }
    worker.unref();
    return new SessionThread(worker);
  }

  /** Logits (B, T, L) for a padded batch, once the batches queued before it have theirs. */
  run(batch: Batch): Promise<Float32Array> {
    const result = this.tail.then(() => this.send(batch));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private send(batch: Batch): Promise<Float32Array> {
    if (this.spent) return Promise.reject(this.spent);
    return new Promise((resolve, reject) => {
      this.inFlight = { resolve, reject };
      this.worker.ref();
      this.worker.postMessage({ rows: batch.rows, length: batch.length, inputIds: batch.inputIds, attentionMask: batch.attentionMask } satisfies Batch);
    });
  }

  /** Ends the thread (and its session); batches still queued reject. */
  async release(): Promise<void> {
    this.spent ??= new SessionThreadError("thread", "the session was released");
    await this.worker.terminate();
  }
}
