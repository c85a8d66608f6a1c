#!/usr/bin/python3
"""The PyTorch + torchaudio peer of one `tkd train` student epoch (bench/run_epoch.sh).

    /usr/bin/python3 bench/peer_epoch.py --data DIR [--length 4] [--threads 1] [--batch 32]
                                         [--snr 0 10] [--noise white,pink,brown] [--seed 1] [--out DIR]

DIR is a folder-per-class tree with split folders, DIR/{train,validation,test}/<word>/*.wav, the
same files `tkd train` reads with data.source: folder. The same work as the product's pipeline
(core/data/NoisyDataset.cpp, PreparedData, StudentTrainer), written the way a PyTorch user would:

  data      a torch Dataset whose item decodes one WAV (torchaudio.load), finds the keyword with a
            frame-energy detector (the product's SpeechActivity rule), places the 1 s clip at a
            uniform offset inside L seconds of white / pink / brown noise (torchaudio lfilter) at an
            SNR drawn uniformly and measured over the keyword window, limits the peak to 0.99, and
            returns torchaudio.transforms.MFCC (20 coefficients, 40 HTK mels 20-7600 Hz, 40 ms periodic
            Hann, 20 ms hop, no centring, magnitude) of it; a DataLoader (num_workers = threads when
            threads > 1) runs it once over every split, as the product computes each split's features
            once into its (cold) feature cache.
  train     per-coefficient standardisation from the training split, TC-ResNet8 (bench/peer_students.py)
            on 20 MFCC, Adam lr 1e-3, batch 32, shuffled, one epoch; validation accuracy after the
            epoch, best and last checkpoints saved (torch.save), test accuracy at the end.
Prints one JSON line: clip counts, accuracies and the seconds each stage took.
"""
import argparse
import json
import math
import os
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
import torchaudio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_students import TcResNet  # noqa: E402

SR = 16000
SPLITS = ("train", "validation", "test")
AUDIO = (".wav", ".flac", ".ogg")

# Pink: a 3-pole approximation of -3 dB/octave (the product uses Kellet's filter); brown: a leaky
# integrator, exactly the product's.
PINK_B = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
PINK_A = [1.0, -2.494956002, 2.017265875, -0.522189400]
BROWN_B = [1.0, 0.0]
BROWN_A = [1.0, -0.995]


def speech_window(x, frame=160, peak_rel=-35.0, floor_margin=10.0, abs_floor=-70.0, merge_gap=25):
    """The product's SpeechActivity rule: loudest run of frames above the threshold, in samples."""
    n = x.numel()
    frames = (n + frame - 1) // frame
    padded = F.pad(x, (0, frames * frame - n))
    counts = torch.full((frames,), float(frame))
    counts[-1] = n - (frames - 1) * frame
    db = 10.0 * torch.log10(padded.view(frames, frame).pow(2).sum(1) / counts + 1e-20)
    peak = db.max().item()
    if peak < abs_floor:
        return None
    floor = db.sort().values[frames // 10].item()
    thr = max(peak + peak_rel, floor + min(floor_margin, 0.5 * (peak - floor)))
    loud = (db >= thr).tolist()
    energy = torch.pow(10.0, db / 10.0).tolist()
    best, best_e, f = None, -1.0, 0
    while f < frames:
        if not loud[f]:
            f += 1
            continue
        a = last = g = f
        e = 0.0
        while g < frames and g - last <= merge_gap + 1:
            if loud[g]:
                last = g
                e += energy[g]
            g += 1
        if e > best_e:
            best, best_e = (a, last), e
        f = last + 1
    return (best[0] * frame, min(n, (best[1] + 1) * frame))


class NoisyKeywords(torch.utils.data.Dataset):
    def __init__(self, root, split, classes, length, snr, kinds, seed):
        self.items = []
        for label, word in enumerate(classes):
            d = os.path.join(root, split, word)
            for f in sorted(os.listdir(d)):
                if f.lower().endswith(AUDIO):
                    self.items.append((os.path.join(d, f), label))
        self.length = int(round(length * SR))
        self.snr, self.kinds, self.seed = snr, kinds, seed
        self.split_id = SPLITS.index(split)
        self.mfcc = torchaudio.transforms.MFCC(
            sample_rate=SR, n_mfcc=20, dct_type=2, norm="ortho", log_mels=True,
            melkwargs=dict(n_fft=640, win_length=640, hop_length=320, f_min=20.0, f_max=7600.0,
                           n_mels=40, window_fn=torch.hann_window, center=False, power=1.0,
                           norm=None, mel_scale="htk"))

    def __len__(self):
        return len(self.items)

    def noise(self, kind, g):
        w = torch.randn(self.length, generator=g)
        if kind == "white":
            return w
        b, a = (PINK_B, PINK_A) if kind == "pink" else (BROWN_B, BROWN_A)
        y = torchaudio.functional.lfilter(w, torch.tensor(a), torch.tensor(b), clamp=False)
        return y - y.mean()

    def __getitem__(self, i):
        path, label = self.items[i]
        g = torch.Generator().manual_seed(self.seed * 1000003 + self.split_id * 100003 + i)
        wave, sr = torchaudio.load(path)
        if sr != SR:
            wave = torchaudio.functional.resample(wave, sr, SR)
        x = wave.mean(0)[: self.length]
        n, L = x.numel(), self.length
        win = speech_window(x) or (0, n)
        offset = int(torch.randint(0, L - n + 1, (1,), generator=g))
        mix = torch.zeros(L)
        mix[offset:offset + n] = x
        a, b = offset + win[0], offset + max(win[1], win[0] + 1)
        speech_p = max(x[win[0]:max(win[1], win[0] + 1)].pow(2).mean().item(), 1e-10)
        kind = self.kinds[int(torch.randint(0, len(self.kinds), (1,), generator=g))]
        snr = self.snr[0] + (self.snr[1] - self.snr[0]) * torch.rand(1, generator=g).item()
        bg = self.noise(kind, g)
        noise_p = bg[a:b].pow(2).mean().item()
        whole_p = bg.pow(2).mean().item()
        if noise_p < 1e-3 * whole_p:
            noise_p = whole_p
        mix += bg * math.sqrt(speech_p / (noise_p * 10.0 ** (snr / 10.0)))
        peak = mix.abs().max().item()
        if peak > 0.99:
            mix *= 0.99 / peak
        feats = self.mfcc(mix).transpose(0, 1)  # [frames, 20]
        return feats, label, torch.tensor([a / SR, b / SR])


def prepare(ds, threads):
    def init(_):
        torch.set_num_threads(1)
    loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=False,
                                         num_workers=threads if threads > 1 else 0,
                                         worker_init_fn=init if threads > 1 else None)
    xs, ys, ws = [], [], []
    for x, y, w in loader:
        xs.append(x)
        ys.append(y)
        ws.append(w)
    return torch.cat(xs), torch.cat(ys), torch.cat(ws)


@torch.no_grad()
def accuracy(model, x, y, mean, std, batch=128):
    model.eval()
    correct = 0
    for i in range(0, len(y), batch):
        logits = model((x[i:i + batch] - mean) / std)[0]
        correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return correct / max(1, len(y))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--length", type=float, default=4.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--snr", type=float, nargs=2, default=[0.0, 10.0])
    p.add_argument("--noise", default="white,pink,brown")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="")
    a = p.parse_args()
    t0 = time.perf_counter()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    classes = sorted(d for d in os.listdir(os.path.join(a.data, "train"))
                     if not d.startswith((".", "_")))
    kinds = a.noise.split(",")

    data = {}
    for s in SPLITS:
        ds = NoisyKeywords(a.data, s, classes, a.length, a.snr, kinds, a.seed)
        data[s] = prepare(ds, a.threads)
    t_data = time.perf_counter()

    xtr, ytr, _ = data["train"]
    flat = xtr.reshape(-1, xtr.shape[-1]).double()
    mean, std = flat.mean(0).float(), flat.std(0).clamp_min(1e-6).float()
    model = TcResNet(len(classes), xtr.shape[-1], 8)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr),
                                         batch_size=a.batch, shuffle=True)
    out = a.out or tempfile.mkdtemp(prefix="peer-epoch-")
    model.train()
    loss_sum = 0.0
    for x, y in loader:
        logits = model((x - mean) / std)[0]
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_sum += loss.item() * len(y)
    t_train = time.perf_counter()
    val = accuracy(model, *data["validation"][:2], mean, std)
    state = {"model": model.state_dict(), "mean": mean, "std": std}
    torch.save(state, os.path.join(out, "best.pt"))
    torch.save({**state, "optimizer": opt.state_dict()}, os.path.join(out, "last.pt"))
    test = accuracy(model, *data["test"][:2], mean, std)
    t_end = time.perf_counter()
    print(json.dumps({
        "side": "pytorch", "threads": a.threads, "length_sec": a.length, "classes": len(classes),
        "clips": {s: len(data[s][1]) for s in SPLITS}, "frames": int(xtr.shape[1]),
        "train_loss": round(loss_sum / len(ytr), 4), "val_acc": round(val, 4), "test_acc": round(test, 4),
        "data_s": round(t_data - t0, 3), "train_epoch_s": round(t_train - t_data, 3),
        "eval_s": round(t_end - t_train, 3)}))


if __name__ == "__main__":
    main()
