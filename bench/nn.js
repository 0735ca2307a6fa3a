#!/usr/bin/env node
// Benchmarks fairvisit's inference engine against ONNX Runtime (CPU, 1 thread)
// on the four face models and prints a markdown table of median/p90 latency.
// Usage: node bench/nn.js [--bin PATH] [--models DIR] [--runs N] [--ort-only]
//                         [--model-arg path|name]
// Needs tools/npm-install (onnxruntime-node) and tools/fetch-models first.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { createRequire } = require('module');

const REPO = path.resolve(__dirname, '..');
const TOOLS_DIR = path.join(REPO, 'tools');
const MODELS = ['fr_detect', 'fr_landmark', 'fr_feature', 'fr_liveness'];

function die(msg) {
  process.stderr.write(`bench/nn.js: error: ${msg}\n`);
  process.exit(1);
}

function usage() {
  return [
    'usage: node bench/nn.js [--bin PATH] [--models DIR] [--runs N] [--rounds R] [--ort-only] [--model-arg path|name]',
    '  --bin PATH        fairvisit binary (default build-release/fairvisit)',
    '  --models DIR      folder with the .onnx files (default models/)',
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
    bin: path.join(REPO, 'build-release', 'fairvisit'),
    models: path.join(REPO, 'models'),
    runs: 200,
    rounds: 3,
    ortOnly: false,
    modelArg: 'path',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`missing value after ${a}\n${usage()}`);
      return argv[++i];
    };
    if (a === '--bin') opts.bin = path.resolve(next());
    else if (a === '--models') opts.models = path.resolve(next());
    else if (a === '--runs') {
      const v = next();
      if (!/^[1-9][0-9]*$/.test(v)) die(`--runs needs a positive integer, got "${v}"`);
      opts.runs = Number(v);
    } else if (a === '--rounds') {
      const v = next();
      if (!/^[1-9][0-9]*$/.test(v)) die(`--rounds needs a positive integer, got "${v}"`);
      opts.rounds = Number(v);
    } else if (a === '--ort-only') opts.ortOnly = true;
    else if (a === '--model-arg') {
      opts.modelArg = next();
      if (opts.modelArg !== 'path' && opts.modelArg !== 'name') die('--model-arg must be "path" or "name"');
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(usage());
      process.exit(0);
    } else die(`unknown argument: ${a}\n${usage()}`);
  }
  return opts;
}

function loadOrt() {
  const req = createRequire(path.join(TOOLS_DIR, 'package.json'));
  try {
    const ort = req('onnxruntime-node');
    const pkg = JSON.parse(
      fs.readFileSync(path.join(TOOLS_DIR, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8'),
    );
    return { ort, version: pkg.version };
  } catch (e) {
    die(`cannot load onnxruntime-node from tools/node_modules (${e.message}); run tools/npm-install first`);
  }
  return null;
}

function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch (e) {
    // fall through
  }
  const cpus = os.cpus();
  return cpus.length ? cpus[0].model : 'unknown CPU';
}

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

// Nearest-rank percentile of an ascending array.
function percentile(sorted, p) {
  const k = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[k - 1];
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

function checkBinary(bin) {
  let st;
  try {
    st = fs.statSync(bin);
  } catch (e) {
    die(
      `fairvisit binary not found at ${bin}\n` +
        '  build it with: cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release && cmake --build build-release -j\n' +
        '  or pass --bin PATH (or --ort-only to measure ONNX Runtime alone)',
    );
  }
  if (!st.isFile()) die(`${bin} is not a file`);
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch (e) {
    die(`${bin} is not executable`);
  }
}

function runOurs(opts, model) {
  const modelArg = opts.modelArg === 'path' ? path.join(opts.models, `${model}.onnx`) : model;
  const args = ['bench', 'nn', modelArg, '--runs', String(opts.runs), '--threads', '1'];
  const r = spawnSync(opts.bin, args, {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FV_MODELS_DIR: opts.models },
  });
  const cmd = `${opts.bin} ${args.join(' ')}`;
  if (r.error) die(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    die(`${cmd} failed (${r.signal ? `signal ${r.signal}` : `exit status ${r.status}`})`);
  }
  const lines = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length === 0) die(`${cmd} printed nothing on stdout; expected a JSON line`);
  let j;
  try {
    j = JSON.parse(lines[lines.length - 1]);
  } catch (e) {
    die(`${cmd}: last stdout line is not JSON: ${lines[lines.length - 1]}`);
  }
  for (const k of ['median_ms', 'p90_ms', 'peak_rss_mb']) {
    if (typeof j[k] !== 'number' || !Number.isFinite(j[k])) die(`${cmd}: JSON lacks a numeric "${k}"`);
  }
  return j;
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

function fmt(v, digits) {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.ortOnly) checkBinary(opts.bin);
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
    const mid = (list, key) => median(list.map((x) => x[key]).sort((a, b) => a - b));
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
