#!/usr/bin/env bash
# nerkit evaluate against seqeval on CoNLL-2003 (gold vs. the perturbed predictions of the shared
# fixtures), same files, same machine, one script. Reports wall time per command (process start,
# reading, scoring, printing) and the in-process scoring time, best of N runs, and their ratios.
#
# Needs: `npm run build`; for the seqeval side, Debian's python3-numpy and python3-sklearn and
# seqeval's source on SEQEVAL_PATH (seqeval is not vendored here; see bench/seqeval_reference.py).
# Usage: bench/evaluate.sh [dev|test] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
split=${1:-test}
runs=${2:-5}
out=bench/out
mkdir -p "$out"
node bench/make-pred-files.mjs "$out" >/dev/null
gold=$out/$split.gold.conll
pred=$out/$split.pred.conll
python=${PYTHON:-/usr/bin/python3}
seqeval_path=${SEQEVAL_PATH:-/tmp/seqeval-src}

best() { sort -g | head -1; }
wall() { # prints seconds of one run of the command
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null 2>"$out/stderr.txt"; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

echo "== $split: $(grep -cv '^\s*$' "$gold") lines; $runs runs each, best shown"
nerkit_wall=$(for _ in $(seq "$runs"); do wall node bin/nerkit.js evaluate --gold "$gold" --pred "$pred" --digits 4; done | best)
nerkit_score=$(for _ in $(seq "$runs"); do node --input-type=module -e "
import { evaluateFiles, classificationReport } from './dist/src/index.js';
const t = performance.now();
const r = evaluateFiles({ gold: '$gold', pred: '$pred' });
classificationReport(r.report, 4);
console.log((performance.now() - t) / 1000);"; done | best)
nerkit_compute=$(for _ in $(seq "$runs"); do node --input-type=module -e "
import { evaluate, classificationReport, parseConll, readTextFile } from './dist/src/index.js';
const g = parseConll(readTextFile('$gold')).sentences.map((s) => s.tags);
const p = parseConll(readTextFile('$pred')).sentences.map((s) => s.tags);
evaluate(g, p);
const t = performance.now();
classificationReport(evaluate(g, p), 4);
console.log((performance.now() - t) / 1000);"; done | best)
echo "nerkit evaluate: wall ${nerkit_wall}s; read+score in process ${nerkit_score}s; score only ${nerkit_compute}s"

if PYTHONPATH=$seqeval_path $python -c "import seqeval.metrics" 2>/dev/null; then
  seqeval_wall=$(for _ in $(seq "$runs"); do PYTHONPATH=$seqeval_path wall $python bench/seqeval_reference.py "$gold" "$pred"; done | best)
  seqeval_compute=$(for _ in $(seq "$runs"); do PYTHONPATH=$seqeval_path $python bench/seqeval_reference.py "$gold" "$pred" 2>&1 >/dev/null | sed -n 's/.*read_s=\([0-9.]*\) compute_s=\([0-9.]*\).*/\2/p'; done | best)
  seqeval_read=$(PYTHONPATH=$seqeval_path $python bench/seqeval_reference.py "$gold" "$pred" 2>&1 >/dev/null | sed -n 's/.*read_s=\([0-9.]*\) .*/\1/p')
  echo "seqeval:         wall ${seqeval_wall}s; read ${seqeval_read}s; score only (report + accuracy) ${seqeval_compute}s"
  printf 'ratio (seqeval / nerkit): wall %.1fx; score only %.1fx\n' \
    "$(echo "$seqeval_wall / $nerkit_wall" | bc -l)" "$(echo "$seqeval_compute / $nerkit_compute" | bc -l)"
  # Same numbers: the overall F1 printed by seqeval equals nerkit's JSON.
  ref_f1=$(PYTHONPATH=$seqeval_path $python bench/seqeval_reference.py "$gold" "$pred" 2>/dev/null | sed -n 's/^f1 //p')
  our_f1=$(node bin/nerkit.js evaluate --gold "$gold" --pred "$pred" --format json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).overall.f1))")
  echo "f1: seqeval $ref_f1, nerkit $our_f1"
else
  echo "seqeval not importable from SEQEVAL_PATH=$seqeval_path with $python: reference side skipped"
fi
