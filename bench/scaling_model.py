#!/usr/bin/env python3
"""Data-parallel scaling model of docs/distributed.md, from measured figures.

    bench/scaling_model.py NAME:BYTES_PER_STEP:STEP_MS [...]

Weak scaling (the way a cluster is used: each rank keeps a batch of b clips, train.batch_size =
W b): per optimiser step, for W ranks
  compute         t_c      = STEP_MS, measured on one rank with a batch of b
  ring all-reduce t_a(W)   = 2 (W-1)/W * S / B + 2 (W-1) * alpha      (S = BYTES_PER_STEP)
  step            t(W)     = t_c + t_a(W)          (all-reduce after backward, as tkd does now)
                  t'(W)    = max(t_c, t_a(W))      (ideal overlap with backward)
  efficiency      E(W)     = t_c / t(W); speed-up over one rank W E(W) (clips per second).
Links: 10 Gb/s Ethernet, B = 1.1 GB/s usable, alpha = 50 us (TCP through Gloo); NVLink-class,
B = 150 GB/s all-reduce bus bandwidth, alpha = 10 us (NCCL)."""
import sys

LINKS = {"10GbE": (1.1e9, 50e-6), "NVLink": (150e9, 10e-6)}


def main(args):
    print("| model | link | W | all-reduce ms | step ms | efficiency | speed-up | overlapped eff. |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for spec in args:
        name, s, tc = spec.rsplit(":", 2)
        s, tc = float(s), float(tc) / 1000.0
        for link, (bw, alpha) in LINKS.items():
            for w in (8, 16, 32, 64):
                ta = 2 * (w - 1) / w * s / bw + 2 * (w - 1) * alpha
                t = tc + ta
                print("| %s | %s | %d | %.2f | %.2f | %.0f%% | %.1fx | %.0f%% |" % (
                    name, link, w, ta * 1e3, t * 1e3, 100 * tc / t, w * tc / t,
                    100 * tc / max(tc, ta)))


if __name__ == "__main__":
    main(sys.argv[1:])
