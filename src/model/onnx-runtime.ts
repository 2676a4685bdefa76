// onnxruntime-node, as nerkit loads it: with ONNX Runtime's telemetry off. Its Linux build (1.30)
// otherwise starts a telemetry client with the first session of every process, which leaves
// mat-debug-<pid>.log and .ses in the temp folder each time (a test run left hundreds). The
// variable is read when that first session is created, so setting it here, before any module can
// create one, is enough; a value the user set (ORT_DISABLE_TELEMETRY=0) is kept.
// Also one way to create a session from a path or bytes (onnxruntime-node types them as two overloads).
// What it leaves out: every other ONNX Runtime setting (threads, providers: see session.ts).

import * as ort from "onnxruntime-node";

process.env.ORT_DISABLE_TELEMETRY ??= "1";

export { ort };

/** onnxruntime-node's int64 tensor, for batchFeeds (session-feeds.ts). */
export const int64Tensor = (data: BigInt64Array, dims: number[]): ort.Tensor => new ort.Tensor("int64", data, dims);

/** A session from a model file's path or a serialized model's bytes. */
export function createSession(model: string | Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  return typeof model === "string" ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}
