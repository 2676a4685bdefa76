"""PyTorch's side of the inference benchmark: BERT (or DistilBERT) for token classification written
in plain PyTorch, as transformers' eager modelling code computes it (embeddings, post-norm encoder
layers with exact-erf GELU, classifier), loading the same model.safetensors. It runs the exact padded
batches nerkit fed its model (written by nerkit-side.mjs), timing each forward call, checks its
logits against nerkit's on one batch, and reports peak RSS. Left out: tokenization (PyTorch has no
tokenizer here, so the ids come from nerkit) and dropout (eval mode).

Usage: /usr/bin/python3 bench/infer/torch_bert.py MODEL_DIR BATCHES.json RESULT.json
       [--threads N] [--repeat R] [--latency-runs K]
Needs Debian's python3-torch, python3-numpy and libopenblas0-pthread (without it torch's BLAS is the
reference implementation, about 20x slower).

Shapes: B batch, T tokens, H hidden, A heads, D head size (H / A), I feed-forward, L labels.
"""

import argparse
import base64
import json
import math
import os
import resource
import struct
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("batches")
parser.add_argument("result")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeat", type=int, default=1)
parser.add_argument("--latency-runs", type=int, default=20)
args = parser.parse_args()

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_threads import torch_with_threads  # noqa: E402

torch = torch_with_threads(args.threads)
import numpy as np  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def log(line):
    print(f"[torch] {line}", file=sys.stderr, flush=True)


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def current_rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def read_safetensors(path):
    """Yields (name, float32 tensor), each read into its own buffer, so that a model can take them one
    at a time and hold one copy of the weights."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] != "F32":
                raise SystemExit(f"{path}: {name} is {info['dtype']}; this reader takes F32 only")
            start, end = info["data_offsets"]
            buf = bytearray(end - start)
            f.seek(base + start)
            f.readinto(buf)
            yield name, torch.frombuffer(buf, dtype=torch.float32).reshape(info["shape"])


class EncoderLayer(nn.Module):
    def __init__(self, H, A, I, eps):
        super().__init__()
        self.A, self.D = A, H // A
        self.query, self.key, self.value, self.attention_output = (nn.Linear(H, H) for _ in range(4))
        self.attention_norm = nn.LayerNorm(H, eps=eps)
        self.intermediate = nn.Linear(H, I)
        self.output = nn.Linear(I, H)
        self.output_norm = nn.LayerNorm(H, eps=eps)

    def forward(self, x, bias):  # x (B, T, H), bias (B, 1, 1, T)
        B, T, H = x.shape
        heads = lambda t: t.view(B, T, self.A, self.D).transpose(1, 2)  # noqa: E731  (B, A, T, D)
        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.D) + bias  # (B, A, T, T)
        context = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, T, H)  # (B, T, H)
        h = self.attention_norm(self.attention_output(context) + x)  # post-norm
        f = self.output(F.gelu(self.intermediate(h)))  # exact erf GELU (transformers' "gelu")
        return self.output_norm(f + h)


class TokenClassifier(nn.Module):
    def __init__(self, config):
        super().__init__()
        distil = config["model_type"] == "distilbert"
        H = config["dim"] if distil else config["hidden_size"]
        A = config["n_heads"] if distil else config["num_attention_heads"]
        I = config["hidden_dim"] if distil else config["intermediate_size"]  # noqa: E741
        layers = config["n_layers"] if distil else config["num_hidden_layers"]
        eps = 1e-12 if distil else config.get("layer_norm_eps", 1e-12)
        self.words = nn.Embedding(config["vocab_size"], H)
        self.positions = nn.Embedding(config["max_position_embeddings"], H)
        self.token_types = None if distil else nn.Embedding(config.get("type_vocab_size", 2), H)
        self.embedding_norm = nn.LayerNorm(H, eps=eps)
        self.layers = nn.ModuleList(EncoderLayer(H, A, I, eps) for _ in range(layers))
        self.classifier = nn.Linear(H, len(config["id2label"]))

    def forward(self, ids, mask):  # ids, mask (B, T) int64
        T = ids.shape[1]
        x = self.words(ids) + self.positions(torch.arange(T))  # (B, T, H)
        if self.token_types is not None:
            x = x + self.token_types.weight[0]  # all token type ids are 0
        x = self.embedding_norm(x)
        bias = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min  # (B, 1, 1, T)
        for layer in self.layers:
            x = layer(x, bias)
        return self.classifier(x)  # (B, T, L)


def hf_names(config):
    """Our parameter names -> the checkpoint's (transformers' BertForTokenClassification / DistilBert...)."""
    n = {}
    if config["model_type"] == "distilbert":
        e, layers = "distilbert.embeddings", config["n_layers"]
        parts = [("query", "attention.q_lin"), ("key", "attention.k_lin"), ("value", "attention.v_lin"),
                 ("attention_output", "attention.out_lin"), ("attention_norm", "sa_layer_norm"),
                 ("intermediate", "ffn.lin1"), ("output", "ffn.lin2"), ("output_norm", "output_layer_norm")]
        prefix = "distilbert.transformer.layer"
    else:
        e, layers = "bert.embeddings", config["num_hidden_layers"]
        parts = [("query", "attention.self.query"), ("key", "attention.self.key"), ("value", "attention.self.value"),
                 ("attention_output", "attention.output.dense"), ("attention_norm", "attention.output.LayerNorm"),
                 ("intermediate", "intermediate.dense"), ("output", "output.dense"), ("output_norm", "output.LayerNorm")]
        prefix = "bert.encoder.layer"
        n["token_types.weight"] = f"{e}.token_type_embeddings.weight"
    n["words.weight"] = f"{e}.word_embeddings.weight"
    n["positions.weight"] = f"{e}.position_embeddings.weight"
    n["embedding_norm.weight"], n["embedding_norm.bias"] = f"{e}.LayerNorm.weight", f"{e}.LayerNorm.bias"
    for i in range(layers):
        for ours, theirs in parts:
            for p in ("weight", "bias"):
                n[f"layers.{i}.{ours}.{p}"] = f"{prefix}.{i}.{theirs}.{p}"
    n["classifier.weight"], n["classifier.bias"] = "classifier.weight", "classifier.bias"
    return n


def load_model(folder):
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    model = TokenClassifier(config)
    ours_by_hf = {theirs: ours for ours, theirs in hf_names(config).items()}
    expected = {n: tuple(p.shape) for n, p in model.named_parameters()}  # shapes only: the old tensors go
    if set(expected) != set(ours_by_hf.values()):
        raise SystemExit("parameter names and the checkpoint map disagree")
    loaded = set()
    # Each checkpoint tensor replaces the freshly initialised parameter it stands for, one at a time.
    for name, tensor in read_safetensors(os.path.join(folder, "model.safetensors")):
        ours = ours_by_hf.get(name)
        if ours is None:
            raise SystemExit(f"unexpected tensor {name} in the checkpoint")
        if tuple(tensor.shape) != expected[ours]:
            raise SystemExit(f"{name}: shape {list(tensor.shape)}, expected {list(expected[ours])}")
        path, attr = ours.rsplit(".", 1)
        setattr(model.get_submodule(path), attr, nn.Parameter(tensor, requires_grad=False))
        loaded.add(ours)
    missing = set(expected) - loaded
    if missing:
        raise SystemExit(f"the checkpoint lacks {sorted(missing)[:3]}")
    return model.eval(), config


def tensors(batch):
    shape = (batch["rows"], batch["length"])
    return torch.tensor(batch["ids"], dtype=torch.int64).view(shape), torch.tensor(batch["mask"], dtype=torch.int64).view(shape)


def main():
    t = time.perf_counter()
    model, config = load_model(args.model)
    load_seconds = time.perf_counter() - t
    rss_after_load, peak_after_load = current_rss_bytes(), peak_rss_bytes()
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads, loaded in {load_seconds:.1f} s, rss {rss_after_load / 2**20:.0f} MiB")
    with open(args.batches) as f:
        work = json.load(f)
    batch_sizes = list(work["batches"].keys())
    prepared = {bs: [tensors(b) for b in work["batches"][bs]] for bs in batch_sizes}

    runs, check = {}, None
    with torch.no_grad():
        largest = max(batch_sizes, key=int)
        for ids, mask in prepared[largest][:2]:  # warm-up, as on nerkit's side
            model(ids, mask)
        for bs in batch_sizes:
            # Each batch's fastest call over the runs, summed, as on nerkit's side.
            fastest = [math.inf] * len(prepared[bs])
            for _ in range(args.repeat):
                for i, (ids, mask) in enumerate(prepared[bs]):
                    start = time.perf_counter()
                    model(ids, mask)
                    fastest[i] = min(fastest[i], time.perf_counter() - start)
            best = sum(fastest)
            tokens = sum(int(mask.sum()) for _, mask in prepared[bs])
            runs[bs] = {"modelSeconds": best, "tokens": tokens, "batches": len(prepared[bs])}
            log(f"batch {bs}: {tokens} tokens, model {best * 1000:.0f} ms")

        c = work["check"]
        ids, mask = prepared[str(c["batchSize"])][c["index"]]
        ours = model(ids, mask).numpy()
        theirs = np.frombuffer(base64.b64decode(c["logits"]), dtype=np.float32).reshape(ours.shape)
        real = mask.numpy().astype(bool)
        check = {
            "batchSize": c["batchSize"], "shape": list(ours.shape),
            "maxAbsDiff": float(np.abs(ours - theirs)[real].max()),
            "maxAbsDiffWithPadding": float(np.abs(ours - theirs).max()),
            "maxAbsLogit": float(np.abs(ours[real]).max()),
        }
        log(f"logits vs nerkit on batch 0 of size {c['batchSize']} {list(ours.shape)}: max |diff| {check['maxAbsDiff']:.2e}")

        ids, mask = tensors(work["latency"])
        for _ in range(3):
            model(ids, mask)
        times = []
        for _ in range(args.latency_runs):
            start = time.perf_counter()
            model(ids, mask)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        latency = {"tokens": int(mask.sum()), "modelMedianMs": times[len(times) // 2], "modelMinMs": times[0], "runs": len(times)}
        log(f"latency ({latency['tokens']} tokens): model {latency['modelMedianMs']:.1f} ms (median)")

    with open(args.result, "w") as f:
        json.dump({
            "torch": torch.__version__, "threads": torch.get_num_threads(), "ompWaitPolicy": os.environ["OMP_WAIT_POLICY"],
            "blas": next((l.strip() for l in torch.__config__.show().splitlines() if "BLAS_INFO" in l), "?").split(",")[0],
            "loadSeconds": load_seconds, "runs": runs, "latency": latency, "check": check,
            "memory": {"rssAfterLoad": rss_after_load, "peakAfterLoad": peak_after_load, "peak": peak_rss_bytes()},
        }, f, indent=2)


main()
