// Runs a token-classification graph on ONNX Runtime: builds the graph from the checkpoint once,
// then turns padded batches of ids into logits. CPU by default; the CUDA execution provider when
// asked for and present in the installed onnxruntime-node (its GPU binaries are an opt-in download:
// `node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12`).
// On the calling thread by default, or in a worker thread (offMainThread, for servers: ONNX
// Runtime's run blocks the thread that calls it; see session-worker.ts).

import { createSession, int64Tensor, ort } from "./onnx-runtime.js";
import { NerkitError } from "../errors.js";
import { Architecture } from "./architecture.js";
import { graphInputs, tokenClassifierMessage } from "./graph/encoder.js";
import type { TensorLookup } from "./graph/tensor.js";
import { openModel } from "./onnx/model-file.js";
import { int8Linear } from "./export/int8-linear.js";
import type { Quantization } from "./export/export-model.js";
import { Batch, LogitsModel, batchFeeds } from "./session-feeds.js";
import { SessionThread, SessionThreadError } from "./session-thread.js";

export type { Batch, LogitsModel } from "./session-feeds.js";

export interface SessionOptions {
  /** Threads for one operator; ONNX Runtime's default (all cores) when absent. */
  threads?: number;
  device?: "cpu" | "cuda";
  /** ONNX Runtime's fused kernels (default) or standard operators only; see graph/encoder.ts. */
  fused?: boolean;
  /** int8: the encoder's Linear layers dynamically quantized at load (faster on CPU, logits within ~0.1%). */
  quantize?: Quantization;
  /**
   * Run the model in a worker thread (session-thread.ts) so that the calling thread's event loop
   * stays free during a batch; same logits, bit for bit. For servers; a command-line run gains nothing.
   */
  offMainThread?: boolean;
}

/** Where batches run: an ONNX Runtime session on this thread or in a worker thread. */
type LogitsRunner = LogitsModel;

export class TokenClassifierSession implements LogitsModel {
  private constructor(
    readonly arch: Architecture,
    private readonly runner: LogitsRunner,
  ) {}

  static async create(arch: Architecture, weights: TensorLookup, options: SessionOptions = {}): Promise<TokenClassifierSession> {
    const model = tokenClassifierMessage(
      arch,
      weights,
      options.quantize === "int8" ? { linear: (tensor, weight) => int8Linear(tensor, weight) } : { fused: options.fused },
    );
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: "all",
      executionProviders: options.device === "cuda" ? ["cuda", "cpu"] : ["cpu"],
    };
    if (options.threads) {
      sessionOptions.intraOpNumThreads = options.threads;
      sessionOptions.interOpNumThreads = 1;
    }
    const withTokenTypes = graphInputs(arch).includes("token_type_ids");
    try {
      // Through a temporary file: ONNX Runtime given a path needs far less memory than given bytes.
      const runner = await openModel<LogitsRunner>(model, async (source) =>
        options.offMainThread
          ? await SessionThread.start({ model: source, sessionOptions, withTokenTypes })
          : sameThreadRunner(await createSession(source, sessionOptions), withTokenTypes),
      );
      return new TokenClassifierSession(arch, runner);
    } catch (error) {
      if (error instanceof SessionThreadError && error.stage !== "load") throw error;
      // The checkpoint's own errors (a tensor missing or of the wrong shape) come from writing the model.
      if (error instanceof NerkitError) throw error;
      const hint = options.device === "cuda" ? " (are onnxruntime-node's CUDA binaries installed? see the README, Prediction)" : "";
      throw new NerkitError("E_FORMAT", `ONNX Runtime could not load the model${hint}: ${(error as Error).message}`);
    }
  }

  /** Logits (B, T, L) for a padded batch. */
  run(batch: Batch): Promise<Float32Array> {
    return this.runner.run(batch);
  }

  async release(): Promise<void> {
    await this.runner.release();
  }
}

function sameThreadRunner(session: ort.InferenceSession, withTokenTypes: boolean): LogitsRunner {
  return {
    async run(batch) {
      const output = await session.run(batchFeeds(batch, withTokenTypes, int64Tensor));
      return output.logits.data as Float32Array;
    },
    release: () => session.release(),
  };
}
