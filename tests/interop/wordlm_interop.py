"""PyTorch side of the WordLM checkpoint interop test (tests/TinyGrad.Tests/Models/WordLMInteropTests.cs).

The checkpoint contract is ../shared/reference/wordlm_reference.py: model structure, PyTorch state-dict names,
the safetensors layout with format/version/config/vocab metadata (a tied decoder.weight omitted), and the
evaluation protocol. This script is an independent implementation of that contract, so the test also runs on a
clone without ../shared. When the reference is present it is used as well: its load_checkpoint and evaluate must
agree with this script's, and the PyTorch-written checkpoints come from its save_checkpoint.

Usage: python3 wordlm_interop.py JOBS.json
JOBS.json is a list of jobs: {"head", "tied", "experts", "emsize", "nhid", "nlayers", "seed", "text",
"batch_size", "bptt", "tinygrad_checkpoint" (written by TinyGrad, read here), "torch_checkpoint" (written here)}.
Prints one JSON list, one result per job:
  tinygrad_ppl   perplexity of the TinyGrad checkpoint, loaded here with load_state_dict(strict=True)
  torch_ppl      perplexity of the model this script made and saved to torch_checkpoint
  reference      whether the reference was found; then reference_tinygrad_ppl and reference_torch_ppl are the
                 same two numbers computed by the reference's load_checkpoint and evaluate.
"""
import json
import math
import os
import struct
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT, VERSION = "tinygrad.wordlm", "1"


class WordLM(nn.Module):
    """encoder, rnns.{l} (single-layer LSTMs emsize -> nhid ... -> nhidlast), then the head's layers."""

    def __init__(self, vocab_size, emsize, nhid, nhidlast, nlayers, head, experts, tied):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, emsize=emsize, nhid=nhid, nhidlast=nhidlast,
                           nlayers=nlayers, head=head, experts=experts, tied=tied)
        self.encoder = nn.Embedding(vocab_size, emsize)
        inputs = [emsize] + [nhid] * (nlayers - 1)
        hiddens = [nhid] * (nlayers - 1) + [nhidlast]
        self.rnns = nn.ModuleList([nn.LSTM(i, h, 1) for i, h in zip(inputs, hiddens)])
        self.mixture = head in ("mos", "moss")
        if self.mixture:
            self.prior = nn.Linear(nhidlast, experts, bias=False)
            self.latent = nn.Linear(nhidlast, experts * emsize)
            self.decoder = nn.Linear(emsize, vocab_size)
        else:
            self.decoder = nn.Linear(nhidlast, vocab_size)
        self.sig = head in ("sigsoftmax", "moss")
        if tied:
            self.decoder.weight = self.encoder.weight

    def log_normalize(self, z):
        # sigsoftmax: p ~ exp(z) * sigmoid(z), i.e. a softmax over z + log(sigmoid(z)).
        return F.log_softmax(z + F.logsigmoid(z) if self.sig else z, dim=-1)

    def forward(self, tokens, state):
        x, new_state = self.encoder(tokens), []
        for layer, s in enumerate(self.rnns):
            x, h = s(x, None if state is None else state[layer])
            new_state.append(h)
        g = x.flatten(0, 1)
        if not self.mixture:
            return self.log_normalize(self.decoder(g)), new_state
        k, e = self.config["experts"], self.config["emsize"]
        log_prior = F.log_softmax(self.prior(g), dim=-1).unsqueeze(-1)          # [N, K, 1]
        contexts = torch.tanh(self.latent(g)).view(g.shape[0], k, e)             # [N, K, E]
        return torch.logsumexp(log_prior + self.log_normalize(self.decoder(contexts)), dim=1), new_state


def read_words(path):
    with open(path, encoding="utf-8") as f:
        return [line.split() + ["<eos>"] for line in f]


def vocab_of(path):
    words = {}
    for line in read_words(path):
        for w in line:
            words.setdefault(w, len(words))
    return words


def tokens_of(path, vocab):
    return torch.tensor([vocab[w] for line in read_words(path) for w in line], dtype=torch.long)


@torch.no_grad()
def perplexity(model, ids, batch_size, bptt):
    model.eval()
    rows = len(ids) // batch_size
    streams = ids[: rows * batch_size].view(batch_size, rows).t()              # column b = stream b
    nll, count, state = 0.0, 0, None
    for start in range(0, rows - 1, bptt):
        steps = min(bptt, rows - 1 - start)
        logp, state = model(streams[start:start + steps], state)
        target = streams[start + 1:start + 1 + steps].reshape(-1, 1)
        nll -= logp.gather(1, target).sum().item()
        count += target.numel()
    return math.exp(nll / count)


def load(path):
    """Reads a checkpoint strictly: metadata checked, tied decoder restored, load_state_dict(strict=True)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        blob = f.read()
    meta = header.pop("__metadata__")
    assert meta["format"] == FORMAT and meta["version"] == VERSION, meta
    config = json.loads(meta["config"])
    model = WordLM(**config)
    state = {}
    for name, entry in header.items():
        assert entry["dtype"] == "F32", (name, entry)
        begin, end = entry["data_offsets"]
        state[name] = torch.frombuffer(bytearray(blob[begin:end]), dtype=torch.float32).reshape(entry["shape"])
    if config["tied"]:
        assert "decoder.weight" not in state, "a tied checkpoint omits decoder.weight"
        state["decoder.weight"] = state["encoder.weight"]
    model.load_state_dict(state, strict=True)
    return model, {w: i for i, w in enumerate(json.loads(meta["vocab"]))}


def save(model, vocab, path):
    tied = model.config["tied"]
    names = [n for n in model.state_dict() if not (tied and n == "decoder.weight")]
    state = model.state_dict()
    header, data = {}, bytearray()
    for name in names:
        raw = state[name].detach().float().contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(state[name].shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = {"format": FORMAT, "version": VERSION, "config": json.dumps(model.config),
                              "vocab": json.dumps(sorted(vocab, key=vocab.get))}
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(data))


def find_reference():
    here = Path(__file__).resolve().parent
    for folder in (os.environ.get("WORDLM_REFERENCE_DIR"), here.parents[1] / ".." / "shared" / "reference"):
        if folder and (Path(folder) / "wordlm_reference.py").is_file():
            sys.path.insert(0, str(Path(folder).resolve()))
            import wordlm_reference
            return wordlm_reference
    return None


def run(job, ref):
    text, b, t = job["text"], job["batch_size"], job["bptt"]
    result = {"head": job["head"], "tied": job["tied"], "reference": ref is not None}

    # (a) TinyGrad -> PyTorch: the checkpoint loads strictly and is scored on the text.
    model, vocab = load(job["tinygrad_checkpoint"])
    result["tinygrad_ppl"] = perplexity(model, tokens_of(text, vocab), b, t)

    # (b) PyTorch -> TinyGrad: a fresh model with random weights everywhere (biases included), saved.
    torch.manual_seed(job["seed"])
    vocab = vocab_of(text)
    head = job["head"]
    mixture = head in ("mos", "moss")
    nhidlast = job["emsize"] if not mixture else job["nhid"]
    model = WordLM(len(vocab), job["emsize"], job["nhid"], nhidlast, job["nlayers"], head,
                   job["experts"] if mixture else 1, job["tied"])
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-1.0, 1.0)
    if ref is not None:
        ref.save_checkpoint(model, vocab, job["torch_checkpoint"])
    else:
        save(model, vocab, job["torch_checkpoint"])
    result["torch_ppl"] = perplexity(model, tokens_of(text, vocab), b, t)

    if ref is not None:
        for key, path in (("reference_tinygrad_ppl", job["tinygrad_checkpoint"]), ("reference_torch_ppl", job["torch_checkpoint"])):
            rmodel, rvocab = ref.load_checkpoint(path)
            ids = ref.read_tokens(text, rvocab)
            result[key] = ref.evaluate(rmodel, ids, batch_size=b, bptt=t)[1]
    return result


def main():
    torch.set_num_threads(1)
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    ref = find_reference()
    print(json.dumps([run(job, ref) for job in jobs]))


if __name__ == "__main__":
    main()
