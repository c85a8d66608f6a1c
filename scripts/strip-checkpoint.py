#!/usr/bin/env python3
"""Writes a copy of a TKD Studio student checkpoint without its training state (the optimiser's
moments and the RNG state): what inference needs is the model and its feature normalisation.
Used for the demo student shipped in resources/students/. Usage: strip-checkpoint.py IN OUT"""
import json
import struct
import sys

DROP = ("optim.", "rng.")

src, dst = sys.argv[1], sys.argv[2]
with open(src, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
out_header, chunks, offset = {}, [], 0
for key, entry in header.items():
    if key == "__metadata__":
        out_header[key] = entry
        continue
    if key.startswith(DROP):
        continue
    begin, end = entry["data_offsets"]
    chunks.append(data[begin:end])
    out_header[key] = dict(entry, data_offsets=[offset, offset + end - begin])
    offset += end - begin
text = json.dumps(out_header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)  # the data section stays 8-byte aligned
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
