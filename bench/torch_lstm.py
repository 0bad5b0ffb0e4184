#!/usr/bin/python3
"""PyTorch side of `bench -- lstm`: forward + backward of a multi-layer LSTM on the CPU.

Prints one line: `torch_lstm hidden=H layers=L T=T B=B threads=N ms=...` (median over the repetitions).
Run by bench/TinyGrad.Bench (LstmQuick.cs) so both sides are timed in one run; by hand:
    /usr/bin/python3 bench/torch_lstm.py --hidden 200 --threads 1
For fair multi-thread runs Debian's torch needs the OpenMP OpenBLAS (see ../shared/FIELD-NOTES.md;
apt-get install libopenblas0-openmp); the script puts it on the library path itself, and names OpenBLAS's kernels
where it does not know the CPU (bench/openblas_env.py).
"""
import argparse
import statistics
import time

from openblas_env import reexec_for_openblas


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=200)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=35)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    reexec_for_openblas(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(args.hidden, args.hidden, args.layers)
    x = torch.randn(args.steps, args.batch, args.hidden, requires_grad=True)
    up = torch.randn(args.steps, args.batch, args.hidden)

    def step():
        lstm.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = lstm(x)
        (out * up).sum().backward()

    for _ in range(3):
        step()
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    print(f"torch_lstm hidden={args.hidden} layers={args.layers} T={args.steps} B={args.batch} "
          f"threads={args.threads} ms={statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
