// Runs a token-classification graph on ONNX Runtime: builds the graph from the checkpoint once,
// then turns padded batches of ids into logits. CPU by default; the CUDA execution provider when
// asked for and present in the installed onnxruntime-node (its GPU binaries are an opt-in download:
// `node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12`).

import { ort } from "./onnx-runtime.js";
import { NerkitError } from "../errors.js";
import { Architecture } from "./architecture.js";
import { Tensor, buildTokenClassifier, graphInputs } from "./graph/encoder.js";
import { int8Linear } from "./export/int8-linear.js";
import type { Quantization } from "./export/export-model.js";

export interface SessionOptions {
  /** Threads for one operator; ONNX Runtime's default (all cores) when absent. */
  threads?: number;
  device?: "cpu" | "cuda";
  /** ONNX Runtime's fused kernels (default) or standard operators only; see graph/encoder.ts. */
  fused?: boolean;
  /** int8: the encoder's Linear layers dynamically quantized at load (faster on CPU, logits within ~0.1%). */
  quantize?: Quantization;
}

/** A padded batch: (B, T) ids and attention mask, row-major. */
export interface Batch {
  rows: number;
  length: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
}

export class TokenClassifierSession {
  private constructor(
    readonly arch: Architecture,
    private readonly session: ort.InferenceSession,
  ) {}

  static async create(arch: Architecture, weights: (name: string) => Tensor, options: SessionOptions = {}): Promise<TokenClassifierSession> {
    const model = buildTokenClassifier(
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
    try {
      return new TokenClassifierSession(arch, await ort.InferenceSession.create(model, sessionOptions));
    } catch (error) {
      const hint = options.device === "cuda" ? " (are onnxruntime-node's CUDA binaries installed? see the README, Prediction)" : "";
      throw new NerkitError("E_FORMAT", `ONNX Runtime could not load the model${hint}: ${(error as Error).message}`);
    }
  }

  /** Logits (B, T, L) for a padded batch. */
  async run(batch: Batch): Promise<Float32Array> {
    const dims = [batch.rows, batch.length];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", batch.inputIds, dims),
      attention_mask: new ort.Tensor("int64", batch.attentionMask, dims),
    };
    if (graphInputs(this.arch).includes("token_type_ids")) {
      feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(batch.rows * batch.length), dims);
    }
    const output = await this.session.run(feeds);
    return output.logits.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
