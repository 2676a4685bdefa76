#!/usr/bin/python3
"""Reference values for nerkit's parity tests that the shared fixtures do not cover, computed by a
plain-PyTorch token classifier (no transformers) in float64 from the four tiny fixture checkpoints.

Writes, beside this script:
- adamw-decay-<kind>.safetensors and adamw-decay.json: three torch.optim.AdamW steps with a weight
  decay large enough to see (DECAY_RECIPE: lr 1e-3, weight decay 1.0, no decay on biases and
  LayerNorm weights), on the fixture batch of model-cases.json, from the checkpoint with every
  bias set to BIAS_START (the checkpoints' biases are 0, where decaying them by mistake would
  change nothing). The .safetensors holds every parameter afterwards as float32, except that of
  the word embeddings only the rows listed in `word_embedding_rows` are kept (the batch's tokens
  and a few it never uses: 8000 rows would make the file 1 MB). The .json holds per-step losses,
  gradient norms and learning rates. adamw-decay-<kind>-first-gradients.safetensors: the first
  step's gradients, the same rows (the tests use them to tell where a gradient is round-off).
- config-variants.json: eval-mode logits of the fixture batch with config.json changed: the
  activations gelu_new and relu and other layer_norm_eps values, which no fixture uses; some with
  weights scaled (`scaled`: factor by tensor name) so that the change shows; `unchanged_logits`
  are those of the same weights under the checkpoint's own config.json.

Before writing anything it checks itself against ../../../shared/fixtures/hf (transformers'
logits, loss, gradients and the three-step fixture recipe) and stops if it disagrees.
Run: /usr/bin/python3 test/reference/make_reference.py (torch >= 1.13; NERKIT_SHARED as for the
tests). Left out: dropout (every recipe here has it off) and sinusoidal positions.
"""

import json
import math
import os
import struct
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("NERKIT_SHARED", HERE.parent.parent.parent / "shared"))
HF = SHARED / "fixtures" / "hf"
KINDS = ["bert", "distilbert", "roberta", "xlmr"]
DECAY_RECIPE = {"lr": 1e-3, "weight_decay": 1.0, "betas": [0.9, 0.999], "eps": 1e-8, "warmup_steps": 1, "steps": 3, "max_grad_norm": 1.0}
FIXTURE_RECIPE = {**DECAY_RECIPE, "lr": 1e-3, "weight_decay": 0.01}
BIAS_START = 0.1
# Unused word-embedding rows kept in the decay reference: AdamW decays them although their gradient is zero.
UNUSED_ROWS = [7990, 7991, 7992, 7993]
# Each variant: the model kind, what changes in config.json, and factors for the weights of the roles named.
# With the checkpoints' weights (~0.02) the feed-forward pre-activations are ~0.1, where gelu and gelu_new
# agree to 1e-7; up ×20 and down ×10 bring them to ~2, where they differ by up to 3e-4.
FFN_SCALED = {"up": 20.0, "down": 10.0}
VARIANTS = [
    ("bert", {"hidden_act": "gelu_new"}, FFN_SCALED),
    ("roberta", {"hidden_act": "gelu_new"}, FFN_SCALED),
    ("bert", {"hidden_act": "relu"}, {}),
    ("distilbert", {"activation": "relu"}, {}),
    ("bert", {"layer_norm_eps": 1e-3}, {}),
    ("roberta", {"layer_norm_eps": 1e-5}, {}),
]

# --- safetensors, the little of it needed here (little-endian host) ---

SAFETENSORS_DTYPES = {"F32": torch.float32, "I64": torch.int64}


def read_safetensors(path):
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = bytearray(data[8 + length + begin : 8 + length + end])
        tensors[name] = torch.frombuffer(raw, dtype=SAFETENSORS_DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return tensors


def write_safetensors(path, tensors):
    codes = {dtype: code for code, dtype in SAFETENSORS_DTYPES.items()}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        blob = tensors[name].contiguous().numpy().tobytes()
        header[name] = {"dtype": codes[tensors[name].dtype], "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# --- the model: post-norm BERT encoder and a linear classifier, as transformers defines them ---


class Config:
    def __init__(self, raw):
        distil = raw["model_type"] == "distilbert"
        self.model_type = raw["model_type"]
        self.hidden = raw["dim"] if distil else raw["hidden_size"]
        self.heads = raw["n_heads"] if distil else raw["num_attention_heads"]
        self.layers = raw["n_layers"] if distil else raw["num_hidden_layers"]
        self.activation = raw["activation"] if distil else raw["hidden_act"]
        # DistilBERT's LayerNorms have eps 1e-12, not configurable.
        self.eps = 1e-12 if distil else raw["layer_norm_eps"]
        self.pad = raw["pad_token_id"]
        self.prefix = {"bert": "bert", "distilbert": "distilbert", "roberta": "roberta", "xlm-roberta": "roberta"}[self.model_type]


# Per family: where the encoder layers live, and each role's name inside a layer.
LAYER_ROLES = {
    "distilbert": ("transformer.layer", {
        "q": "attention.q_lin", "k": "attention.k_lin", "v": "attention.v_lin", "o": "attention.out_lin",
        "norm1": "sa_layer_norm", "up": "ffn.lin1", "down": "ffn.lin2", "norm2": "output_layer_norm",
    }),
    "bert": ("encoder.layer", {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value", "o": "attention.output.dense",
        "norm1": "attention.output.LayerNorm", "up": "intermediate.dense", "down": "output.dense", "norm2": "output.LayerNorm",
    }),
}


def parameter_names(c):
    """Checkpoint names by role: the embeddings', and each encoder layer's."""
    p = c.prefix
    distil = c.model_type == "distilbert"
    embeddings = {
        "words": f"{p}.embeddings.word_embeddings",
        "positions": f"{p}.embeddings.position_embeddings",
        "types": None if distil else f"{p}.embeddings.token_type_embeddings",
        "norm": f"{p}.embeddings.LayerNorm",
    }
    stack, roles = LAYER_ROLES["distilbert" if distil else "bert"]
    return embeddings, [{role: f"{p}.{stack}.{i}.{name}" for role, name in roles.items()} for i in range(c.layers)]


def activate(x, name):
    if name == "gelu":
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    if name == "gelu_new":  # the tanh approximation (transformers' NewGELUActivation)
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    if name == "relu":
        return torch.clamp(x, min=0)
    raise ValueError(name)


def logits_of(c, w, ids, mask, type_ids):
    """(B, T, L) from ids, the 0/1 mask and segment ids (B, T); `w` maps checkpoint names to tensors."""
    embeddings, layers = parameter_names(c)

    def linear(x, n):
        return x @ w[f"{n}.weight"].T + w[f"{n}.bias"]

    def norm(x, n):
        return F.layer_norm(x, (c.hidden,), w[f"{n}.weight"], w[f"{n}.bias"], c.eps)

    B, T = ids.shape
    if c.model_type in ("roberta", "xlm-roberta"):  # fairseq numbering: from pad + 1, padding keeps pad
        real = (ids != c.pad).long()
        positions = torch.cumsum(real, 1) * real + c.pad
    else:
        positions = torch.arange(T).expand(B, T)
    x = w[f"{embeddings['words']}.weight"][ids] + w[f"{embeddings['positions']}.weight"][positions]
    if embeddings["types"]:
        x = x + w[f"{embeddings['types']}.weight"][type_ids]
    x = norm(x, embeddings["norm"])
    A, D = c.heads, c.hidden // c.heads
    bias = (1 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min  # (B, 1, 1, T)

    def heads(t):  # (B, T, H) -> (B, A, T, D)
        return t.view(B, T, A, D).transpose(1, 2)

    for n in layers:
        q, k, v = heads(linear(x, n["q"])), heads(linear(x, n["k"])), heads(linear(x, n["v"]))
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + bias, dim=-1)
        context = (p @ v).transpose(1, 2).reshape(B, T, c.hidden)
        h = norm(linear(context, n["o"]) + x, n["norm1"])
        x = norm(linear(activate(linear(h, n["up"]), c.activation), n["down"]) + h, n["norm2"])
    return linear(x, "classifier")


def batch_of(case):
    ids = torch.tensor(case["input_ids"])
    return ids, torch.tensor(case["attention_mask"]), torch.tensor(case["token_type_ids"]) if case["token_type_ids"] else torch.zeros_like(ids), torch.tensor(case["labels"])


def loss_of(c, w, batch):
    ids, mask, types, labels = batch
    logits = logits_of(c, w, ids, mask, types)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)


def decays(name):
    """AdamW's grouping as transformers' Trainer makes it: no decay on biases and LayerNorm weights."""
    return not (name.endswith(".bias") or "LayerNorm" in name or "layer_norm" in name)


def train(c, initial, batch, recipe):
    """torch.optim.AdamW for recipe['steps'] steps on one batch, linear schedule with warm-up, gradients clipped."""
    w = {n: t.double().clone().requires_grad_(True) for n, t in initial.items()}
    groups = [
        {"params": [t for n, t in w.items() if decays(n)], "weight_decay": recipe["weight_decay"]},
        {"params": [t for n, t in w.items() if not decays(n)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=recipe["lr"], betas=tuple(recipe["betas"]), eps=recipe["eps"])
    steps, warmup = recipe["steps"], recipe["warmup_steps"]
    log = {"loss_per_step": [], "grad_norm_per_step": [], "lr_per_step": []}
    for s in range(steps):
        rate = recipe["lr"] * (s / warmup if s < warmup else max(0.0, (steps - s) / (steps - warmup)))
        for group in optimizer.param_groups:
            group["lr"] = rate
        optimizer.zero_grad()
        loss = loss_of(c, w, batch)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(list(w.values()), recipe["max_grad_norm"])
        optimizer.step()
        log["loss_per_step"].append(loss.item())
        log["grad_norm_per_step"].append(norm.item())
        log["lr_per_step"].append(rate)
    return {n: t.detach() for n, t in w.items()}, log


def rounded(logits):
    """(B, T, L) as nested lists, to 10 decimals (float64 digits beyond that only weigh down the JSON)."""
    return [[[round(v, 10) for v in token] for token in row] for row in logits.tolist()]


def max_difference(a, b):
    return (a.double() - b.double()).abs().max().item()


def check(condition, message):
    print(("ok    " if condition else "WRONG ") + message)
    if not condition:
        sys.exit(1)


def main():
    cases = json.loads((HF / "model-cases.json").read_text())
    decay_log = {"recipe": DECAY_RECIPE, "bias_start": BIAS_START, "kinds": {}}
    for kind in KINDS:
        folder = HF / f"{kind}-tiny"
        c = Config(json.loads((folder / "config.json").read_text()))
        initial = read_safetensors(folder / "model.safetensors")
        case = cases[kind]
        batch = batch_of(case)
        w = {n: t.double() for n, t in initial.items()}

        # Self-check against transformers (float32) before trusting this forward and this optimizer.
        logits = logits_of(c, w, *batch[:3])
        check(max_difference(logits, torch.tensor(case["logits_eval"])) < 1e-6, f"{kind}: logits vs transformers', max |Δ| {max_difference(logits, torch.tensor(case['logits_eval'])):.1e}")
        w = {n: t.double().requires_grad_(True) for n, t in initial.items()}
        loss = loss_of(c, w, batch)
        loss.backward()
        check(abs(loss.item() - case["loss_train"]) < 1e-6, f"{kind}: loss {loss.item():.8f} vs {case['loss_train']:.8f}")
        expected_grads = read_safetensors(folder / "expected_grads.safetensors")
        worst = max((w[n].grad - g.double()).norm().item() / max(g.double().norm().item(), 1e-30) for n, g in expected_grads.items() if not n.endswith(("key.bias", "k_lin.bias")))
        check(worst < 1e-5, f"{kind}: gradients vs transformers', worst |Δ|/|g| {worst:.1e}")
        after, log = train(c, initial, batch, FIXTURE_RECIPE)
        expected_after = read_safetensors(folder / "expected_after_3_steps.safetensors")
        worst = max(max_difference(after[n], t) for n, t in expected_after.items())
        check(worst < 1e-5, f"{kind}: fixture recipe's parameters vs transformers' Trainer, max |Δ| {worst:.1e}")
        check(max(abs(a - b) for a, b in zip(log["loss_per_step"], case["train_steps"]["loss_per_step"])) < 1e-6, f"{kind}: fixture recipe's losses")

        # The decay reference.
        start = {n: torch.full_like(t, BIAS_START) if n.endswith(".bias") else t for n, t in initial.items()}
        w = {n: t.double().requires_grad_(True) for n, t in start.items()}
        loss_of(c, w, batch).backward()
        first_gradients = {n: t.grad for n, t in w.items()}
        after, log = train(c, start, batch, DECAY_RECIPE)
        embeddings, _ = parameter_names(c)
        words = f"{embeddings['words']}.weight"
        rows = sorted(set(batch[0].flatten().tolist()) | set(UNUSED_ROWS))
        for tensors, file in [(after, f"adamw-decay-{kind}.safetensors"), (first_gradients, f"adamw-decay-{kind}-first-gradients.safetensors")]:
            kept = {n: (t[rows] if n == words else t).float() for n, t in tensors.items()}
            kept["word_embedding_rows"] = torch.tensor(rows, dtype=torch.int64)
            write_safetensors(HERE / file, kept)
        decay_log["kinds"][kind] = log
        without, _ = train(c, start, batch, {**DECAY_RECIPE, "weight_decay": 0.0})
        print(f"      {kind}: the decay recipe moves parameters by up to {max(max_difference(after[n], start[n]) for n in after):.1e}, {max(max_difference(after[n], without[n]) for n in after):.1e} more than without decay")

    (HERE / "adamw-decay.json").write_text(json.dumps(decay_log, indent=1) + "\n")

    variants = []
    for kind, change, factors in VARIANTS:
        folder = HF / f"{kind}-tiny"
        raw = json.loads((folder / "config.json").read_text())
        w = {n: t.double() for n, t in read_safetensors(folder / "model.safetensors").items()}
        _, layers = parameter_names(Config(raw))
        scaled = {f"{n[role]}.weight": factor for n in layers for role, factor in factors.items()}
        w = {n: t * scaled.get(n, 1.0) for n, t in w.items()}
        batch = batch_of(cases[kind])[:3]
        variants.append({"kind": kind, "config": change, "scaled": scaled, "logits": rounded(logits_of(Config({**raw, **change}), w, *batch)), "unchanged_logits": rounded(logits_of(Config(raw), w, *batch))})
    (HERE / "config-variants.json").write_text(json.dumps({"variants": variants}) + "\n")


if __name__ == "__main__":
    torch.set_grad_enabled(True)
    main()
