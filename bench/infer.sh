#!/usr/bin/env bash
# Inference benchmark of a BERT-base-shaped model: nerkit end to end and model only, PyTorch on the
# same batches, transformers.js on nerkit's ONNX export when TJS_DIR is set and `nerkit export`
# exists. Prints a table; the files each side wrote are in bench/out/infer/.
#
# Needs: `npm run build`; for PyTorch, Debian's packages
#   apt-get update && apt-get install -y python3-torch libopenblas0-pthread python3-numpy
# for transformers.js, @huggingface/transformers installed in TJS_DIR (see bench/infer/transformersjs.mjs).
# Usage: [TJS_DIR=/tmp/tjs] bash bench/infer.sh [--sentences 256] [--threads 2] [--batch-sizes 8,1,32]
#        [--repeat 2] [--model-type distilbert] ...   (all flags: bench/infer/run.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f dist/src/index.js ]; then
  echo "bench/infer.sh: dist/ is missing: run npm run build first" >&2
  exit 2
fi
exec node bench/infer/run.mjs "$@"
