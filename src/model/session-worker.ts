// The worker thread's side of an off-main-thread session (session-thread.ts holds the other side):
// creates the ONNX Runtime session from the model it was handed (a path or bytes), then answers each batch
// message with its logits (their buffer transferred back, not copied) or with the error's message.
// Why a thread: onnxruntime-node's InferenceSession.run executes the model synchronously on the
// thread that calls it (1.30's backend only defers the native call with setImmediate), so on the
// main thread a batch blocks the event loop, and with it every HTTP request, for the whole run.
// Left out: building the graph (done by the caller, who has the weights), queueing (the caller sends
// one batch at a time), and errors' classes (only messages cross threads; the caller rewraps them).

import { parentPort, workerData } from "node:worker_threads";
import { createSession, int64Tensor, ort } from "./onnx-runtime.js";
import { Batch, batchFeeds } from "./session-feeds.js";

/** What the thread is started with: a path to the model (../onnx/model-file.ts), or its bytes, transferred, not copied. */
export interface SessionWorkerData {
  model: string | Uint8Array;
  sessionOptions: ort.InferenceSession.SessionOptions;
  withTokenTypes: boolean;
}

/** The thread's messages: loaded, or not; then one answer per batch, in order. */
export type SessionWorkerReply =
  | { kind: "loaded" }
  | { kind: "load-failed"; message: string }
  | { kind: "logits"; logits: Float32Array }
  | { kind: "run-failed"; message: string };

const port = parentPort!;
const data = workerData as SessionWorkerData;
const reply = (message: SessionWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

async function load(): Promise<ort.InferenceSession | undefined> {
  try {
    const session = await createSession(data.model, data.sessionOptions);
    reply({ kind: "loaded" });
    return session;
  } catch (error) {
    reply({ kind: "load-failed", message: (error as Error).message });
    return undefined;
  }
}

const session = await load();
if (session) {
  port.on("message", async (batch: Batch) => {
    try {
      const output = await session.run(batchFeeds(batch, data.withTokenTypes, int64Tensor));
      const logits = output.logits.data as Float32Array;
      reply({ kind: "logits", logits }, [logits.buffer as ArrayBuffer]);
    } catch (error) {
      reply({ kind: "run-failed", message: (error as Error).message });
    }
  });
} else {
  // Nothing more to do: the caller rejects create() and terminates the thread.
  port.close();
}
