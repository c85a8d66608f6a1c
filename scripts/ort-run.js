#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (the npm package onnxruntime-node, installed by
// scripts/install-deps.sh into .cache/onnxruntime-node): the independent runtime that the export
// tests and `tkd export --format onnx` check LibTorch against. No Python anywhere.
//
//   node scripts/ort-run.js REQUEST.json
//
// REQUEST: { "model": "m.onnx", "outDir": "dir", "threads": 1,
//            "inputs": { "features": { "dims": [1, 49, 40], "file": "x.f32" } },
//            "repeats": 0 }
// Writes outDir/<output>.f32 (raw little-endian float32) per output and outDir/result.json:
// { "outputs": { name: { "dims": [...], "file": ... } }, "inputNames": [...], "outputNames": [...],
//   "medianMs": m (with repeats > 0: median wall time of one session.run) }.
'use strict';
const fs = require('fs');
const path = require('path');

function loadOrt() {
  const tried = [];
  const candidates = [];
  if (process.env.TKD_ORT_NODE_MODULES) candidates.push(process.env.TKD_ORT_NODE_MODULES);
  candidates.push(path.join(__dirname, '..', '.cache', 'onnxruntime-node', 'node_modules'));
  for (const dir of candidates) {
    const p = path.join(dir, 'onnxruntime-node');
    tried.push(p);
    if (fs.existsSync(p)) return require(p);
  }
  try {
    return require('onnxruntime-node');
  } catch (e) {
    tried.push('onnxruntime-node (NODE_PATH)');
  }
  process.stderr.write('onnxruntime-node not found (tried ' + tried.join(', ') +
                       '): run scripts/install-deps.sh\n');
  process.exit(3);
}

async function main() {
  const request = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const ort = loadOrt();
  const threads = request.threads || 1;
  const session = await ort.InferenceSession.create(request.model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const [name, spec] of Object.entries(request.inputs)) {
    const buf = fs.readFileSync(spec.file);
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    feeds[name] = new ort.Tensor('float32', data, spec.dims);
  }
  const outputs = await session.run(feeds);
  const result = { outputs: {}, inputNames: session.inputNames, outputNames: session.outputNames };
  fs.mkdirSync(request.outDir, { recursive: true });
  for (const [name, t] of Object.entries(outputs)) {
    const file = path.join(request.outDir, name + '.f32');
    const f32 = Float32Array.from(t.data);
    fs.writeFileSync(file, Buffer.from(f32.buffer));
    result.outputs[name] = { dims: t.dims, file };
  }
  const repeats = request.repeats || 0;
  if (repeats > 0) {
    const times = [];
    await session.run(feeds); // warm-up
    for (let r = 0; r < repeats; ++r) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    result.medianMs = times[Math.floor(times.length / 2)];
  }
  fs.writeFileSync(path.join(request.outDir, 'result.json'), JSON.stringify(result));
}

main().catch((e) => {
  process.stderr.write('ort-run: ' + (e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
