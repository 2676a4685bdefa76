// onnxruntime-node, as nerkit loads it: with ONNX Runtime's telemetry off. Its Linux build (1.30)
// otherwise starts a telemetry client with the first session of every process, which leaves
// mat-debug-<pid>.log and .ses in the temp folder each time (a test run left hundreds). The
// variable is read when that first session is created, so setting it here, before any module can
// create one, is enough; a value the user set (ORT_DISABLE_TELEMETRY=0) is kept.
// What it leaves out: every other ONNX Runtime setting (threads, providers: see session.ts).

import * as ort from "onnxruntime-node";

process.env.ORT_DISABLE_TELEMETRY ??= "1";

export { ort };

/** onnxruntime-node's int64 tensor, for batchFeeds (session-feeds.ts). */
export const int64Tensor = (data: BigInt64Array, dims: number[]): ort.Tensor => new ort.Tensor("int64", data, dims);
