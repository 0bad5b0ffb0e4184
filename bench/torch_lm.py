#!/usr/bin/python3
"""PyTorch side of `bench -- lm`: full word-LM training steps on the CPU, the same model and step as
bench/TinyGrad.Bench/LmBench.cs.

The model is the reference's (../shared/reference/wordlm_reference.py): an embedding, one nn.LSTM per
layer, a tied decoder and one of four heads; no dropout. A step is forward, loss (mean NLL), backward,
clip_grad_norm_(0.25) and an SGD update, on random token ids with the LSTM state carried and detached
between steps. The loss is computed the way a PyTorch user would write it:
  softmax     F.cross_entropy(decoder(g), t)
  sigsoftmax  F.cross_entropy(z + F.logsigmoid(z), t)
  mos / moss  nll_loss(logsumexp_k(log_pi_k + log_softmax(z_k) or log-sigsoftmax(z_k)), t)

Prints one line in LmBench's format:
  lm head=softmax emsize=200 nhid=200 vocab=10000 threads=1 tokens_per_second=1234.5 peak_mb=456
tokens_per_second is B*T*S over the S timed steps after the warm-up; peak_mb is the process's peak
resident set (ru_maxrss), the measure LmBench reports too.

Usage: /usr/bin/python3 bench/torch_lm.py [--head softmax] [--threads 1] [--steps 20] ...
Threads: Debian's torch links the pthread OpenBLAS, whose pool torch.set_num_threads does not control
(../shared/FIELD-NOTES.md); when the OpenMP build is installed (libopenblas0-openmp) this script re-runs
itself with it on LD_LIBRARY_PATH so that --threads means what it says, and with OPENBLAS_CORETYPE set where
Debian's OpenBLAS 0.3.21 does not know the CPU and would fall back to SSE3 kernels (bench/openblas_env.py).
"""
import argparse
import resource
import time

from openblas_env import reexec_for_openblas


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--head", default="softmax", choices=["softmax", "sigsoftmax", "mos", "moss"])
    ap.add_argument("--experts", type=int, default=None)
    ap.add_argument("--emsize", type=int, default=200)
    ap.add_argument("--nhid", type=int, default=200)
    ap.add_argument("--nlayers", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--batch-size", type=int, default=20)
    ap.add_argument("--bptt", type=int, default=35)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args()
    if args.device == "cpu":
        reexec_for_openblas(args.threads)

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    mixture = args.head in ("mos", "moss")
    k = args.experts or (15 if mixture else 1)
    e, v = args.emsize, args.vocab
    nhidlast = args.nhid if mixture else e
    sizes = [e] + [args.nhid] * (args.nlayers - 1) + [nhidlast]

    encoder = nn.Embedding(v, e)
    rnns = nn.ModuleList(nn.LSTM(sizes[l], sizes[l + 1], 1) for l in range(args.nlayers))
    decoder = nn.Linear(e, v)
    decoder.weight = encoder.weight
    modules = nn.ModuleList([encoder, rnns, decoder])
    if mixture:
        prior = nn.Linear(nhidlast, k, bias=False)
        latent = nn.Linear(nhidlast, k * e)
        modules.extend([prior, latent])
    dev = torch.device(args.device)
    modules.to(dev)
    params = list(modules.parameters())
    opt = torch.optim.SGD(params, lr=1.0)

    def log_sigsoftmax(z):
        return F.log_softmax(z + F.logsigmoid(z), dim=-1)

    def loss_of(g, t):
        if args.head == "softmax":
            return F.cross_entropy(decoder(g), t)
        if args.head == "sigsoftmax":
            z = decoder(g)
            return F.cross_entropy(z + F.logsigmoid(z), t)
        log_pi = F.log_softmax(prior(g), dim=-1)
        h = torch.tanh(latent(g)).reshape(-1, k, e)
        z = decoder(h)
        comp = F.log_softmax(z, dim=-1) if args.head == "mos" else log_sigsoftmax(z)
        return F.nll_loss(torch.logsumexp(log_pi.unsqueeze(-1) + comp, dim=1), t)

    T, B = args.bptt, args.batch_size
    state = [None] * args.nlayers

    def step():
        nonlocal state
        x = torch.randint(v, (T, B), device=dev)
        t = torch.randint(v, (T * B,), device=dev)
        out, new_state = encoder(x), []
        for rnn, s in zip(rnns, state):
            out, s = rnn(out, s)
            new_state.append(tuple(h.detach() for h in s))
        state = new_state
        loss = loss_of(out.reshape(-1, out.shape[-1]), t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 0.25)
        opt.step()

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    where = " device=cuda" if args.device == "cuda" else ""
    print(f"lm head={args.head} emsize={e} nhid={args.nhid} vocab={v} threads={args.threads}{where} "
          f"tokens_per_second={T * B * args.steps / seconds:.1f} peak_mb={peak_mb:.0f}", flush=True)


if __name__ == "__main__":
    main()
