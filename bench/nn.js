#!/usr/bin/env node
// Benchmarks fairvisit's inference engine against ONNX Runtime (CPU, 1 thread)
// on the four face models and prints a markdown table of median/p90 latency.
// Usage: node bench/nn.js [--bin PATH] [--models DIR] [--runs N] [--ort-only]
//                         [--model-arg path|name]
// Needs tools/npm-install (onnxruntime-node) and tools/fetch-models first.
'use strict';

const fs = require('fs');
const path = require('path');
const { DEFAULT_BIN, DEFAULT_MODELS, BIN_MODELS_HELP, die, parseArgv } = require('./common');
const { median, medianOf, percentile, fmt, cpuModel, checkBinary, runJson, loadOrt } = require('./common');

const MODELS = ['fr_detect', 'fr_landmark', 'fr_feature', 'fr_liveness'];

function usage() {
  return [
    'usage: node bench/nn.js [--bin PATH] [--models DIR] [--runs N] [--rounds R] [--ort-only] [--model-arg path|name]',
    ...BIN_MODELS_HELP,
    '  --runs N          timed runs per model and round (default 200)',
    '  --rounds R        alternating rounds of fairvisit and ORT per model (default 3)',
    '  --ort-only        measure ONNX Runtime only, skip the fairvisit binary',
    '  --model-arg KIND  what to pass as <model> to "fairvisit bench nn <model>":',
    '                    "path" = DIR/<model>.onnx (default), "name" = e.g. fr_detect',
    '',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = {
    bin: DEFAULT_BIN,
    models: DEFAULT_MODELS,
    runs: 200,
    rounds: 3,
    ortOnly: false,
    modelArg: 'path',
  };
  const positive = (a, v) => {
    if (!/^[1-9][0-9]*$/.test(v)) die(`${a} needs a positive integer, got "${v}"`);
    return Number(v);
  };
  parseArgv(argv, usage, (a, next) => {
    if (a === '--bin') opts.bin = path.resolve(next());
    else if (a === '--models') opts.models = path.resolve(next());
    else if (a === '--runs') opts.runs = positive(a, next());
    else if (a === '--rounds') opts.rounds = positive(a, next());
    else if (a === '--ort-only') opts.ortOnly = true;
    else if (a === '--model-arg') {
      opts.modelArg = next();
      if (opts.modelArg !== 'path' && opts.modelArg !== 'name') die('--model-arg must be "path" or "name"');
    } else return false;
    return true;
  });
  return opts;
}

// Small deterministic PRNG (mulberry32) for the random inputs.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function runOurs(opts, model) {
  const modelArg = opts.modelArg === 'path' ? path.join(opts.models, `${model}.onnx`) : model;
  const args = ['bench', 'nn', modelArg, '--runs', String(opts.runs), '--threads', '1'];
  return runJson(opts.bin, args, opts.models, ['median_ms', 'p90_ms', 'peak_rss_mb']);
}

async function runOrt(ort, opts, model, seed) {
  const file = path.join(opts.models, `${model}.onnx`);
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // graphOptimizationLevel left at ORT's default ("all").
  });
  const name = session.inputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata.find((m) => m.name === name) : null;
  const dims = meta && Array.isArray(meta.shape) ? meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) : null;
  if (!dims) die(`cannot read the input shape of ${file}`);
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const rand = rng(seed);
  for (let i = 0; i < n; i++) data[i] = rand() * 2 - 1;
  const feeds = { [name]: new ort.Tensor('float32', data, dims) };

  const warmup = Math.min(50, Math.max(5, Math.ceil(opts.runs / 10)));
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const times = new Array(opts.runs);
  for (let i = 0; i < opts.runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  if (typeof session.release === 'function') await session.release();
  times.sort((a, b) => a - b);
  return { dims, median_ms: median(times), p90_ms: percentile(times, 90) };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.ortOnly) checkBinary(opts.bin, '--ort-only to measure ONNX Runtime alone');
  for (const m of MODELS) {
    const f = path.join(opts.models, `${m}.onnx`);
    if (!fs.existsSync(f)) die(`model ${f} not found; run tools/fetch-models first`);
  }
  const { ort, version: ortVersion } = loadOrt();

  const rows = [];
  for (let i = 0; i < MODELS.length; i++) {
    const model = MODELS[i];
    process.stderr.write(`bench/nn.js: ${model} (${opts.rounds} x ${opts.runs} runs)...\n`);
    // Rounds alternate the two engines so that drift in machine load hits both alike; each
    // reported figure is the median over rounds of the per-round figure.
    const oursR = [];
    const refR = [];
    for (let r = 0; r < opts.rounds; r++) {
      if (!opts.ortOnly) oursR.push(runOurs(opts, model));
      refR.push(await runOrt(ort, opts, model, 0x5eed + i));
    }
    const mid = (list, key) => medianOf(list.map((x) => x[key]));
    const ours = opts.ortOnly
      ? null
      : { median_ms: mid(oursR, 'median_ms'), p90_ms: mid(oursR, 'p90_ms'), peak_rss_mb: mid(oursR, 'peak_rss_mb') };
    const ref = { median_ms: mid(refR, 'median_ms'), p90_ms: mid(refR, 'p90_ms') };
    rows.push({ model, ours, ref });
  }

  const out = [];
  out.push(
    '| model | fairvisit median ms | ORT median ms | ratio ours/ORT | fairvisit p90 ms | ORT p90 ms | fairvisit peak RSS MB |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const { model, ours, ref } of rows) {
    const ratio = ours ? ours.median_ms / ref.median_ms : NaN;
    out.push(
      `| ${model} | ${fmt(ours && ours.median_ms, 3)} | ${fmt(ref.median_ms, 3)} | ${fmt(ratio, 2)} | ` +
        `${fmt(ours && ours.p90_ms, 3)} | ${fmt(ref.p90_ms, 3)} | ${fmt(ours && ours.peak_rss_mb, 1)} |`,
    );
  }
  out.push('');
  out.push(
    `CPU: ${cpuModel()}; node ${process.version}; onnxruntime-node ${ortVersion} ` +
      `(CPU EP, intra/inter-op threads 1, sequential); ${opts.rounds} alternating rounds of ` +
      `${opts.runs} timed runs per model and engine (median of the round medians), single thread.`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
