#!/usr/bin/python3
"""torchaudio peer of bench_features: the same front end, the same batch, the same thread count.

    /usr/bin/python3 bench/peer_features.py [--batch 64] [--seconds 8] [--threads 1] [--reps 5]
                                            [--kind mfcc|logmel] [--mfcc 20]
Spectrogram(640, hop 320, periodic Hann, center=False, power=1) -> MelScale(40, 20-7600 Hz, htk,
norm=None) -> log(clamp(x, 1e-12)) -> @ create_dct(n_mfcc, 40, "ortho"). (torchaudio.transforms.MFCC
takes a different log, so it would not be the same config.)
"""
import argparse
import time

import numpy as np
import torch
import torchaudio


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--kind", choices=["mfcc", "logmel"], default="mfcc")
    p.add_argument("--mfcc", type=int, default=20)
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    sr = 16000
    spec = torchaudio.transforms.Spectrogram(n_fft=640, win_length=640, hop_length=320,
                                             window_fn=torch.hann_window, center=False, power=1.0)
    mel = torchaudio.transforms.MelScale(n_mels=40, sample_rate=sr, f_min=20.0, f_max=7600.0,
                                         n_stft=321, norm=None, mel_scale="htk")
    dct = torchaudio.functional.create_dct(a.mfcc, 40, norm="ortho")

    def features(wave):
        logmel = torch.log(torch.clamp(mel(spec(wave)), min=1e-12)).transpose(-1, -2)  # [B, T, 40]
        return torch.matmul(logmel, dct) if a.kind == "mfcc" else logmel

    n = int(a.seconds * sr)
    rng = np.random.default_rng(42)
    wave = torch.from_numpy((0.1 * rng.standard_normal((a.batch, n))).astype(np.float32))
    with torch.no_grad():
        out = features(wave)  # warm-up
        times = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            out = features(wave)
            times.append(time.perf_counter() - t0)
    times.sort()
    dim = out.shape[-1]
    print("torchaudio %s%d threads=%d batch=%dx%gs frames=%dx%d best_s=%.4f median_s=%.4f throughput=%.1f"
          % (a.kind, dim, a.threads, a.batch, a.seconds, out.shape[0] * out.shape[1], dim, times[0],
             times[len(times) // 2], a.batch * a.seconds / times[0]))


if __name__ == "__main__":
    main()
