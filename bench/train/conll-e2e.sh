#!/usr/bin/env bash
# End to end on real data, offline: a WordPiece vocabulary learnt from CoNLL-2003's training text,
# then a 4-layer, hidden-256 BERT (bert-mini) trained from random weights for 3 epochs, scored on
# dev after each epoch and on test at the end. Prints wall time; tokens/s per step are in
# bench/out/conll/model/training_log.jsonl.
# Usage (after `npm run build`): bash bench/train/conll-e2e.sh [epochs] [threads]
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=${1:-3}
threads=${2:-2}
shared=${NERKIT_SHARED:-../shared}
data=$shared/data/conll2003
out=bench/out/conll
rm -rf "$out" && mkdir -p "$out"
start=$(date +%s)
node bin/nerkit.js tokenizer train --data "$data/train.conll" --vocab-size 8000 --out "$out/tokenizer"
node bin/nerkit.js train --init bert-mini --tokenizer "$out/tokenizer" \
  --train "$data/train.conll" --dev "$data/dev.conll" --test "$data/test.conll" --out "$out/model" \
  --epochs "$epochs" --batch-size 32 --lr 1e-3 --warmup-ratio 0.1 --threads "$threads" 2>&1 | grep -v '^step '
end=$(date +%s)
echo "wall time: $((end - start)) s"
node -e "
const lines = require('fs').readFileSync('$out/model/training_log.jsonl', 'utf8').trim().split('\n').map(JSON.parse).filter((l) => l.tokens_per_second);
const rates = lines.map((l) => l.tokens_per_second).sort((a, b) => a - b);
console.log('steps', lines.length, 'median tokens/s', Math.round(rates[Math.floor(rates.length / 2)]));
"
