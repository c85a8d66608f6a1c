#!/usr/bin/python3
"""The five students written in plain PyTorch (eager), for timing against the LibTorch C++ ones.

Same architectures, sizes and per-step formulation as core/models (LSTM-P precomputes its
input projections too), so the ratio measures the implementation, not the model.
  python3 bench/peer_students.py [--threads N] [--batch 32] [--frames 49,400] [--repeats 5]
Prints one JSON object per (model, frames) line, like bench_students (wall and CPU medians).
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LstmPCell(nn.Module):
    def __init__(self, inp, hidden, proj, forget_bias=1.0):
        super().__init__()
        self.h, self.p, self.forget_bias = hidden, proj, forget_bias
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden, inp))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden, proj))
        self.bias = nn.Parameter(torch.empty(4 * hidden))
        self.peephole_i = nn.Parameter(torch.empty(hidden))
        self.peephole_f = nn.Parameter(torch.empty(hidden))
        self.peephole_o = nn.Parameter(torch.empty(hidden))
        self.weight_proj = nn.Parameter(torch.empty(proj, hidden))
        bound = hidden ** -0.5
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x):
        b, t, _ = x.shape
        h = self.h
        offset = torch.zeros(4 * h)
        offset[h:2 * h] = self.forget_bias
        xt = x.transpose(0, 1).reshape(t * b, -1)
        gates_in = torch.addmm(self.bias + offset, xt, self.weight_ih.t()).view(t, b, 4 * h)
        whh, wproj = self.weight_hh.t(), self.weight_proj.t()
        m = x.new_zeros(b, self.p)
        c = x.new_zeros(b, h)
        outs = []
        for step in gates_in.unbind(0):
            gi, gf, gg, go = torch.addmm(step, m, whh).chunk(4, 1)
            i = torch.sigmoid(torch.addcmul(gi, c, self.peephole_i))
            f = torch.sigmoid(torch.addcmul(gf, c, self.peephole_f))
            c = torch.addcmul(f * c, i, torch.tanh(gg))
            o = torch.sigmoid(torch.addcmul(go, c, self.peephole_o))
            m = torch.mm(o * torch.tanh(c), wproj)
            outs.append(m)
        return torch.stack(outs, 1)


class LstmP(nn.Module):
    def __init__(self, classes, feats=20):
        super().__init__()
        self.lstm = LstmPCell(feats, 500, 200)
        self.dropout = nn.Dropout(0.3)
        self.classifier = nn.Linear(200, classes)

    def forward(self, x):
        ctx = self.lstm(x)
        return self.classifier(self.dropout(ctx[:, -1])), ctx, None


class TcBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.down = cin != cout
        s = 2 if self.down else 1
        self.conv1 = nn.Conv1d(cin, cout, 9, stride=s, padding=4, bias=False)
        self.bn1 = nn.BatchNorm1d(cout)
        self.conv2 = nn.Conv1d(cout, cout, 9, padding=4, bias=False)
        self.bn2 = nn.BatchNorm1d(cout)
        if self.down:
            self.sc_conv = nn.Conv1d(cin, cout, 1, stride=2, bias=False)
            self.sc_bn = nn.BatchNorm1d(cout)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = F.relu(self.sc_bn(self.sc_conv(x))) if self.down else x
        return F.relu(y + s)


class TcResNet(nn.Module):
    def __init__(self, classes, feats=40, depth=8, k=1.0):
        super().__init__()
        base = [16, 24, 32, 48] if depth == 8 else [16, 24, 24, 32, 32, 48, 48]
        ch = [max(1, round(c * k)) for c in base]
        self.conv0 = nn.Conv1d(feats, ch[0], 3, padding=1, bias=False)
        self.blocks = nn.Sequential(*[TcBlock(a, b) for a, b in zip(ch[:-1], ch[1:])])
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Conv1d(ch[-1], classes, 1, bias=False)

    def forward(self, x):
        y = self.blocks(self.conv0(x.transpose(1, 2)))
        logits = self.classifier(self.dropout(y.mean(2, keepdim=True))).squeeze(2)
        return logits, y.transpose(1, 2), None


class Crnn(nn.Module):
    def __init__(self, classes, feats=20):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, (3, 3))
        self.conv2 = nn.Conv2d(16, 16, (5, 3))
        self.gru = nn.GRU(16 * (feats - 4), 256, batch_first=True)
        self.dropout = nn.Dropout(0.1)
        self.dense1 = nn.Linear(256, 128)
        self.dense2 = nn.Linear(128, 256)
        self.classifier = nn.Linear(256, classes)

    def forward(self, x):
        y = F.relu(self.conv2(F.relu(self.conv1(x.unsqueeze(1)))))
        y = y.permute(0, 2, 3, 1).reshape(y.size(0), y.size(2), -1)
        ctx, _ = self.gru(y)
        z = F.relu(self.dense2(self.dense1(self.dropout(ctx[:, -1]))))
        return self.classifier(z), ctx, None


class MiddleFrameAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.dim, self.heads = dim, heads
        self.query = nn.Linear(dim, heads * dim)

    def forward(self, seq):
        b, t, d = seq.shape
        q = self.query(seq[:, t // 2]).view(b, self.heads, d)
        w = torch.softmax(torch.bmm(q, seq.transpose(1, 2)), 2)
        return torch.bmm(w, seq).reshape(b, self.heads * d), w


class AttRnn(nn.Module):
    """Att-RNN (heads=1, BiLSTM 64 or BiGRU 128) and MHAtt-RNN (heads=4, BiGRU 128)."""

    def __init__(self, classes, feats, cell="lstm", units=64, heads=1, dropout=0.1):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, (5, 1), padding=(2, 0))
        self.bn1 = nn.BatchNorm2d(10)
        self.conv2 = nn.Conv2d(10, 1, (5, 1), padding=(2, 0))
        self.bn2 = nn.BatchNorm2d(1)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(feats, units, num_layers=2, bidirectional=True, batch_first=True)
        self.attention = MiddleFrameAttention(2 * units, heads)
        self.dropout = nn.Dropout(dropout)
        self.dense1 = nn.Linear(heads * 2 * units, 64)
        self.dense2 = nn.Linear(64, 32)
        self.classifier = nn.Linear(32, classes)

    def forward(self, x):
        y = self.bn1(F.relu(self.conv1(x.unsqueeze(1))))
        y = self.bn2(F.relu(self.conv2(y))).squeeze(1)
        ctx, _ = self.rnn(y)
        pooled, w = self.attention(ctx)
        z = F.relu(self.dense1(self.dropout(pooled)))
        return self.classifier(self.dense2(z)), ctx, w


def make(name, classes=12):
    if name == "lstm-p":
        return LstmP(classes), 20
    if name.startswith("tc-resnet"):
        depth = 14 if name.startswith("tc-resnet14") else 8
        k = 1.5 if name.endswith("-1.5") else 1.0
        return TcResNet(classes, 40, depth, k), 40
    if name == "crnn":
        return Crnn(classes), 20
    if name == "att-rnn":
        return AttRnn(classes, 80), 80
    if name == "att-rnn-gru":
        return AttRnn(classes, 20, "gru", 128), 20
    if name == "mhatt-rnn":
        return AttRnn(classes, 20, "gru", 128, heads=4, dropout=0.2), 20
    raise SystemExit(f"unknown model {name}")


NAMES = ["lstm-p", "tc-resnet8", "tc-resnet8-1.5", "tc-resnet14", "tc-resnet14-1.5", "crnn",
         "att-rnn", "att-rnn-gru", "mhatt-rnn"]


def median_ms(repeats, fn):
    """Medians of wall and process CPU milliseconds over `repeats` runs after one warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1e3)
        wall.append((time.perf_counter() - t0) * 1e3)
    wall.sort()
    cpu.sort()
    return wall[len(wall) // 2], cpu[len(cpu) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frames", default="49,400")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", default=",".join(NAMES))
    a = ap.parse_args()
    torch.set_num_threads(max(1, a.threads))
    torch.manual_seed(0)
    for name in [m for m in a.models.split(",") if m]:
        model, feats = make(name)
        params = sum(p.numel() for p in model.parameters())
        for frames in [int(f) for f in a.frames.split(",") if f]:
            x = torch.randn(a.batch, frames, feats)
            target = torch.randint(0, 12, (a.batch,))
            model.eval()

            def fwd():
                with torch.no_grad():
                    model(x)

            f_ms, f_cpu = median_ms(a.repeats, fwd)
            model.train()

            def train():
                model.zero_grad()
                logits, ctx, _ = model(x)
                (F.cross_entropy(logits, target) + ctx.pow(2).mean()).backward()

            t_ms, t_cpu = median_ms(a.repeats, train)
            print(json.dumps({"impl": "pytorch-python", "model": name, "frames": frames,
                              "batch": a.batch, "threads": a.threads, "params": params,
                              "forward_ms": round(f_ms, 3), "train_ms": round(t_ms, 3),
                              "forward_cpu_ms": round(f_cpu, 3), "train_cpu_ms": round(t_cpu, 3)}),
                  flush=True)


if __name__ == "__main__":
    main()
