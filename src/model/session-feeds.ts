// A padded batch as ONNX Runtime's feeds: the (B, T) tensors the token-classification graph reads.
// Shared by the session on the calling thread (session.ts) and the one in a worker thread
// (session-worker.ts), so both run the very same feeds. Leaves out building and running the graph.

import { ort } from "./onnx-runtime.js";

/** A padded batch: (B, T) ids and attention mask, row-major. */
export interface Batch {
  rows: number;
  length: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
}

/** input_ids and attention_mask (B, T), and all-zero token_type_ids when the graph reads them (BERT). */
export function batchFeeds(batch: Batch, withTokenTypes: boolean): Record<string, ort.Tensor> {
  const dims = [batch.rows, batch.length];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor("int64", batch.inputIds, dims),
    attention_mask: new ort.Tensor("int64", batch.attentionMask, dims),
  };
  if (withTokenTypes) feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(batch.rows * batch.length), dims);
  return feeds;
}
