"""PyTorch's side of the training benchmark: BERT (or DistilBERT) for token classification in plain
PyTorch (embeddings, post-norm encoder layers with exact-erf GELU, dropout 0.1, classifier), random
weights, torch.optim.AdamW with the Trainer's grouping (no decay on biases and LayerNorm weights),
gradient clipping at 1.0 — the same work as one `nerkit train` step — on random batches of B x T.

Usage: /usr/bin/python3 bench/train/torch_train.py --layers 12 --hidden 768 --heads 12
       --intermediate 3072 [--batch 8 --tokens 128 --steps 6 --warmup 2 --threads 2] RESULT.json
Needs Debian's python3-torch and libopenblas0-pthread.
"""

import argparse
import json
import os
import resource
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("result")
for name, default in [("layers", 12), ("hidden", 768), ("heads", 12), ("intermediate", 3072), ("vocab", 8000), ("labels", 9), ("batch", 8), ("tokens", 128), ("steps", 6), ("warmup", 2), ("threads", 2)]:
    parser.add_argument(f"--{name}", type=int, default=default)
args = parser.parse_args()

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_threads import torch_with_threads  # noqa: E402

torch = torch_with_threads(args.threads)
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
torch.manual_seed(0)

H, A, I, L = args.hidden, args.heads, args.intermediate, args.labels
D = H // A


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(H, H) for _ in range(4))
        self.norm1, self.norm2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(H, I), nn.Linear(I, H)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, bias):  # x (B, T, H), bias (B, 1, 1, T)
        B, T, _ = x.shape
        heads = lambda t: t.view(B, T, A, D).transpose(1, 2)
        scores = heads(self.q(x)) @ heads(self.k(x)).transpose(-1, -2) / D ** 0.5 + bias
        probs = self.drop(scores.softmax(-1))
        context = (probs @ heads(self.v(x))).transpose(1, 2).reshape(B, T, H)
        h = self.norm1(x + self.drop(self.o(context)))
        return self.norm2(h + self.drop(self.ff2(F.gelu(self.ff1(h)))))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.words, self.positions, self.types = nn.Embedding(args.vocab, H), nn.Embedding(512, H), nn.Embedding(2, H)
        self.norm = nn.LayerNorm(H, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(args.layers))
        self.classifier = nn.Linear(H, L)
        self.drop = nn.Dropout(0.1)

    def forward(self, ids, mask):
        T = ids.shape[1]
        x = self.drop(self.norm(self.words(ids) + self.positions(torch.arange(T))[None] + self.types(torch.zeros_like(ids))))
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, bias)
        return self.classifier(self.drop(x))


model = Model().train()
decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "norm" in n)]
no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "norm" in n]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=2e-5)
g = torch.Generator().manual_seed(1)
ids = torch.randint(5, args.vocab, (args.batch, args.tokens), generator=g)
mask = torch.ones_like(ids)
labels = torch.randint(0, L, (args.batch, args.tokens), generator=g)

def blas_library():
    """The BLAS this process loaded (Debian's torch links the generic libblas.so.3, whichever the system provides)."""
    libs = sorted({line.split()[-1].rsplit("/", 1)[-1] for line in open("/proc/self/maps") if "openblas" in line.lower() or "libblas" in line.lower() or "mkl" in line.lower()})
    return " + ".join(libs) or "BLAS unknown"


times = []
for step in range(args.warmup + args.steps):
    start = time.perf_counter()
    loss = F.cross_entropy(model(ids, mask).view(-1, L), labels.view(-1), ignore_index=-100)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    if step >= args.warmup:
        times.append(time.perf_counter() - start)
tokens = args.batch * args.tokens
result = {
    "seconds_per_step": sorted(times)[len(times) // 2],
    "tokens_per_second": tokens / sorted(times)[len(times) // 2],
    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "torch": torch.__version__,
    # Named in every ratio RESULTS.md gives: the version and the BLAS library it ran on.
    "torch_build": "torch %s, %s" % (torch.__version__, blas_library()),
    "threads": args.threads,
}
json.dump(result, open(args.result, "w"))
print(f"[torch] {result}", file=sys.stderr)
