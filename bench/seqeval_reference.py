#!/usr/bin/env python3
"""Reference side of the evaluation benchmark: score PRED against GOLD with seqeval.

Reads two CoNLL files with the same tokens (tag in the last column, blank lines between
sentences, -DOCSTART- lines skipped), prints seqeval's classification report (4 digits) and the
micro precision, recall, F1 and token accuracy, and writes to stderr the seconds spent reading
and computing, so `nerkit evaluate` can be compared with seqeval on both numbers and time.

It leaves out everything seqeval is not asked for here: no suffix tags, no sample weights, no
output formats beyond the text report and the four numbers.

seqeval (chakki-works/seqeval, 1.2.x) is not vendored in this repository and is not installed
from PyPI: put its source on PYTHONPATH and run this with a Python that has numpy and
scikit-learn, e.g. on Debian:

    apt-get install -y python3-numpy python3-sklearn
    PYTHONPATH=/path/to/seqeval-src /usr/bin/python3 bench/seqeval_reference.py \
        GOLD.conll PRED.conll [--mode default|strict] [--scheme IOB2]

Exit status: 0 ok, 1 the files do not line up, 2 bad arguments, 3 seqeval (or numpy/sklearn)
cannot be imported.
"""
import argparse
import sys
import time
import warnings

SCHEMES = ("IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU")

MISSING_SEQEVAL = """\
error: cannot import seqeval or a module it needs ({err}).
This benchmark's reference needs seqeval (chakki-works/seqeval, 1.2.x) on PYTHONPATH; it is not
part of this repository and is not installed from PyPI here. Place seqeval's source tree (the
directory that contains seqeval/metrics/ and seqeval/scheme.py) somewhere outside the repository
and point PYTHONPATH at it. seqeval needs numpy and scikit-learn; on Debian install them with
    apt-get install -y python3-numpy python3-sklearn
and run with that interpreter, e.g.
    PYTHONPATH=/tmp/seqeval-src /usr/bin/python3 bench/seqeval_reference.py GOLD PRED
"""


def read_conll(path):
    """Returns (tokens, tags): one list per sentence, -DOCSTART- lines dropped."""
    tokens, tags = [], []
    cur_tokens, cur_tags = [], []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                if cur_tags:
                    tokens.append(cur_tokens)
                    tags.append(cur_tags)
                    cur_tokens, cur_tags = [], []
                continue
            if fields[0] == "-DOCSTART-":
                continue
            if len(fields) < 2:
                raise ValueError("%s:%d: expected TOKEN ... TAG, got %r" % (path, line_no, line.rstrip("\n")))
            cur_tokens.append(fields[0])
            cur_tags.append(fields[-1])
    if cur_tags:
        tokens.append(cur_tokens)
        tags.append(cur_tags)
    return tokens, tags


def check_aligned(gold_path, gold_tokens, pred_path, pred_tokens):
    """Both files must hold the same sentences of the same tokens; seqeval assumes it."""
    if len(gold_tokens) != len(pred_tokens):
        raise ValueError("%s has %d sentences but %s has %d"
                         % (gold_path, len(gold_tokens), pred_path, len(pred_tokens)))
    for i, (g, p) in enumerate(zip(gold_tokens, pred_tokens)):
        if g != p:
            raise ValueError("sentence %d differs between %s (%d tokens) and %s (%d tokens)"
                             % (i + 1, gold_path, len(g), pred_path, len(p)))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Score a CoNLL prediction file with seqeval.")
    ap.add_argument("gold", help="CoNLL file with the gold tags")
    ap.add_argument("pred", help="CoNLL file with the same tokens and the predicted tags")
    ap.add_argument("--mode", choices=("default", "strict"), default="default",
                    help="default: conlleval-compatible chunking; strict: seqeval's scheme-based mode")
    ap.add_argument("--scheme", choices=SCHEMES, default="IOB2",
                    help="tagging scheme for --mode strict (default IOB2)")
    args = ap.parse_args(argv)

    try:
        from seqeval import scheme as seqeval_scheme
        from seqeval.metrics import (accuracy_score, classification_report, f1_score,
                                     precision_score, recall_score)
    except ImportError as err:
        sys.stderr.write(MISSING_SEQEVAL.format(err=err))
        return 3

    t0 = time.perf_counter()
    try:
        gold_tokens, y_true = read_conll(args.gold)
        pred_tokens, y_pred = read_conll(args.pred)
        check_aligned(args.gold, gold_tokens, args.pred, pred_tokens)
    except (OSError, ValueError) as err:
        sys.stderr.write("error: %s\n" % err)
        return 1
    read_s = time.perf_counter() - t0

    # zero_division=0 gives the value seqeval's default ('warn') gives, without the warnings;
    # it is also what the shared fixtures were generated with.
    kw = {"zero_division": 0}
    if args.mode == "strict":
        kw.update(mode="strict", scheme=getattr(seqeval_scheme, args.scheme))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # A warm-up call, untimed, as nerkit's side gets one (bench/evaluate.sh calls evaluate()
        # once before timing it): first-call costs (lazy imports, caches) are not scored.
        classification_report(y_true, y_pred, digits=4, **kw)
        accuracy_score(y_true, y_pred)
        t1 = time.perf_counter()
        # Timed: what `nerkit evaluate` prints (the report, whose micro average is the overall
        # score) plus token accuracy, which its JSON output also carries.
        report = classification_report(y_true, y_pred, digits=4, **kw)
        accuracy = accuracy_score(y_true, y_pred)
        t2 = time.perf_counter()
        # Untimed: the overall numbers at full precision, for checking against nerkit's JSON.
        precision = precision_score(y_true, y_pred, **kw)
        recall = recall_score(y_true, y_pred, **kw)
        f1 = f1_score(y_true, y_pred, **kw)

    out = sys.stdout
    out.write(report)
    out.write("\n")
    out.write("precision %r\n" % float(precision))
    out.write("recall %r\n" % float(recall))
    out.write("f1 %r\n" % float(f1))
    out.write("accuracy %r\n" % float(accuracy))
    out.flush()
    sys.stderr.write("seqeval_reference: sentences=%d tokens=%d mode=%s read_s=%.3f compute_s=%.3f\n"
                     % (len(y_true), sum(map(len, y_true)),
                        args.mode if args.mode == "default" else "strict/" + args.scheme,
                        read_s, t2 - t1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
