// The LogitsModel (../model/session-feeds.ts) of the browser: an exported ONNX graph on
// onnxruntime-web, fed exactly as Node's session is (batchFeeds), so that both run the same batches.
// The runtime is passed in, not imported, so that the caller chooses the build: the WASM one the
// web entry bundles, or onnxruntime-web/webgpu for WebGPU. Left out: running in a worker
// (onnxruntime-web's own env.wasm.proxy does that) and the IO binding of GPU buffers.

import { NerkitError } from "../errors.js";
import { Batch, LogitsModel, batchFeeds } from "../model/session-feeds.js";

/** What nerkit uses of an onnxruntime-web module (`import * as ort from "onnxruntime-web/wasm"`). */
export interface WebRuntime {
  InferenceSession: { create(model: Uint8Array, options?: object): Promise<WebInferenceSession> };
  Tensor: new (type: "int64", data: BigInt64Array, dims: readonly number[]) => unknown;
}

export interface WebInferenceSession {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
  release(): Promise<void>;
}

export type WebDevice = "wasm" | "webgpu";

/**
 * A session on the graph's bytes; `file` names the graph in errors. A graph the runtime cannot run
 * (an operator its build lacks) fails here with E_FORMAT naming the file and the runtime's reason.
 */
export async function createWebSession(runtime: WebRuntime, model: Uint8Array, file: string, device: WebDevice = "wasm"): Promise<LogitsModel> {
  let session: WebInferenceSession;
  try {
    // WebGPU where the runtime and the browser have it, else WASM (onnxruntime-web falls back along the list, with a console warning).
    const executionProviders = device === "webgpu" ? ["webgpu", "wasm"] : ["wasm"];
    session = await runtime.InferenceSession.create(model, { executionProviders, graphOptimizationLevel: "all" });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new NerkitError("E_FORMAT", `onnxruntime-web (${device}) could not load the model: ${reason}`, { file });
  }
  const withTokenTypes = session.inputNames.includes("token_type_ids");
  const tensor = (data: BigInt64Array, dims: number[]) => new runtime.Tensor("int64", data, dims);
  return {
    async run(batch: Batch): Promise<Float32Array> {
      const output = await session.run(batchFeeds(batch, withTokenTypes, tensor));
      return output.logits.data as Float32Array;
    },
    release: () => session.release(),
  };
}
