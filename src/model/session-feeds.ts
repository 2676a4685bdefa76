// A padded batch, and the feeds the token-classification graph reads for it, built with whichever
// ONNX Runtime's Tensor the caller has (onnxruntime-node's here, onnxruntime-web's in the browser):
// this module imports no runtime, so the pipeline and both loaders share it. Shared by the session
// on the calling thread (session.ts), the one in a worker thread (session-worker.ts) and the web
// session (../web/web-session.ts), so all run the very same feeds. Leaves out building and running the graph.

/** A padded batch: (B, T) ids and attention mask, row-major. */
export interface Batch {
  rows: number;
  length: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
}

/** Where the pipeline's batches run: anything that turns a padded batch into logits (B, T, L). */
export interface LogitsModel {
  run(batch: Batch): Promise<Float32Array>;
  release(): Promise<void>;
}

/** An int64 tensor of the given dims, made by the caller's runtime. */
export type Int64Tensor<T> = (data: BigInt64Array, dims: number[]) => T;

/** input_ids and attention_mask (B, T), and all-zero token_type_ids when the graph reads them (BERT). */
export function batchFeeds<T>(batch: Batch, withTokenTypes: boolean, tensor: Int64Tensor<T>): Record<string, T> {
  const dims = [batch.rows, batch.length];
  const feeds: Record<string, T> = {
    input_ids: tensor(batch.inputIds, dims),
    attention_mask: tensor(batch.attentionMask, dims),
  };
  if (withTokenTypes) feeds.token_type_ids = tensor(new BigInt64Array(batch.rows * batch.length), dims);
  return feeds;
}
