#!/usr/bin/env node
// Benchmarks fairvisit's whole face pipeline (decode → detect → landmarks → align → quality →
// liveness → embed) against the ONNX Runtime reference pipeline (tools/ref-pipeline, in this
// process, onnxruntime-node CPU, 1 thread) on a single-face 1080p photo and a multi-face photo,
// and prints a markdown table of median/p90 latency and faces per second.
// Usage: node bench/pipeline.js [--bin PATH] [--models DIR] [--faces DIR] [--runs N]
//                               [--rounds R] [--warmup W] [--ref-only]
// Needs tools/npm-install, tools/fetch-models and a release build first.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const REPO = path.resolve(__dirname, '..');
const IMAGES = ['obama-1080p.jpg', 'two_people.jpg'];

function die(msg) {
  process.stderr.write(`bench/pipeline.js: error: ${msg}\n`);
  process.exit(1);
}

function usage() {
  return [
    'usage: node bench/pipeline.js [--bin PATH] [--models DIR] [--faces DIR] [--runs N] [--rounds R] [--warmup W] [--ref-only]',
    '  --bin PATH        fairvisit binary (default build-release/fairvisit)',
    '  --models DIR      folder with the .onnx files (default models/)',
    '  --faces DIR       photos (default ${FV_FACES_DIR:-<repo>/../shared/data/faces})',
    '  --runs N          timed runs per image, engine and round (default 30)',
    '  --rounds R        alternating rounds of fairvisit and the reference (default 3)',
    '  --warmup W        untimed runs before each round (default 3)',
    '  --ref-only        time the reference only, skip the fairvisit binary',
    '',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = {
    bin: path.join(REPO, 'build-release', 'fairvisit'),
    models: path.join(REPO, 'models'),
    faces: process.env.FV_FACES_DIR || path.join(REPO, '..', 'shared', 'data', 'faces'),
    runs: 30,
    rounds: 3,
    warmup: 3,
    refOnly: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`missing value after ${a}\n${usage()}`);
      return argv[++i];
    };
    const count = (min) => {
      const v = next();
      if (!/^[0-9]+$/.test(v) || Number(v) < min) die(`${a} needs an integer >= ${min}, got "${v}"`);
      return Number(v);
    };
    if (a === '--bin') opts.bin = path.resolve(next());
    else if (a === '--models') opts.models = path.resolve(next());
    else if (a === '--faces') opts.faces = path.resolve(next());
    else if (a === '--runs') opts.runs = count(1);
    else if (a === '--rounds') opts.rounds = count(1);
    else if (a === '--warmup') opts.warmup = count(0);
    else if (a === '--ref-only') opts.refOnly = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(usage());
      process.exit(0);
    } else die(`unknown argument: ${a}\n${usage()}`);
  }
  return opts;
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

function checkBinary(bin) {
  let st;
  try {
    st = fs.statSync(bin);
  } catch (e) {
    die(
      `fairvisit binary not found at ${bin}\n` +
        '  build it with: cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release && cmake --build build-release -j\n' +
        '  or pass --bin PATH (or --ref-only to time the reference alone)',
    );
  }
  if (!st.isFile()) die(`${bin} is not a file`);
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch (e) {
    die(`${bin} is not executable`);
  }
}

function runOurs(opts, file) {
  const args = ['bench', 'face', file, '--runs', String(opts.runs), '--warmup', String(opts.warmup), '--models', opts.models];
  const r = spawnSync(opts.bin, args, {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FV_MODELS_DIR: opts.models },
  });
  const cmd = `${opts.bin} ${args.join(' ')}`;
  if (r.error) die(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) die(`${cmd} failed (${r.signal ? `signal ${r.signal}` : `exit status ${r.status}`})`);
  const lines = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length === 0) die(`${cmd} printed nothing on stdout; expected a JSON line`);
  let j;
  try {
    j = JSON.parse(lines[lines.length - 1]);
  } catch (e) {
    die(`${cmd}: last stdout line is not JSON: ${lines[lines.length - 1]}`);
  }
  for (const k of ['faces', 'median_ms', 'p90_ms', 'faces_per_s']) {
    if (typeof j[k] !== 'number' || !Number.isFinite(j[k])) die(`${cmd}: JSON lacks a numeric "${k}"`);
  }
  return j;
}

function fmt(v, digits) {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.refOnly) checkBinary(opts.bin);
  const files = IMAGES.map((n) => path.join(opts.faces, n));
  for (const f of files) if (!fs.existsSync(f)) die(`${f} not found (set FV_FACES_DIR or --faces)`);
  let ref;
  try {
    ref = require(path.join(REPO, 'tools', 'ref-pipeline'));
  } catch (e) {
    die(`cannot load tools/ref-pipeline (${e.message})`);
  }
  const models = await ref.open({ models: opts.models });
  const ortVersion = JSON.parse(
    fs.readFileSync(path.join(REPO, 'tools', 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8'),
  ).version;

  const rows = [];
  for (const file of files) {
    const name = path.basename(file);
    process.stderr.write(`bench/pipeline.js: ${name} (${opts.rounds} x ${opts.runs} runs)...\n`);
    // Rounds alternate the two pipelines so that drift in machine load hits both alike; each
    // reported figure is the median over rounds of the per-round figure.
    const oursR = [];
    const refR = [];
    for (let r = 0; r < opts.rounds; r++) {
      if (!opts.refOnly) oursR.push(runOurs(opts, file));
      refR.push(await ref.benchImage(models, file, opts.runs, opts.warmup));
    }
    const mid = (list, key) => median(list.map((x) => x[key]).sort((a, b) => a - b));
    const pick = (list) =>
      list.length ? { faces: list[0].faces, median_ms: mid(list, 'median_ms'), p90_ms: mid(list, 'p90_ms'), faces_per_s: mid(list, 'faces_per_s') } : null;
    // The reference's decode alone (WASM libjpeg-turbo), to show how much of its time it is.
    const buf = fs.readFileSync(file);
    const dt = [];
    for (let i = 0; i < opts.warmup + opts.runs; i++) {
      const t0 = process.hrtime.bigint();
      const img = ref.decodeImage(buf, name);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      img.rgb.fill(0);
      if (i >= opts.warmup) dt.push(ms);
    }
    rows.push({ name, ours: pick(oursR), ref: pick(refR), refDecode: median(dt.sort((a, b) => a - b)) });
  }

  const out = [];
  out.push(
    '| image | faces | fairvisit median ms | reference median ms | ratio ours/ref | fairvisit p90 ms | reference p90 ms | fairvisit faces/s | reference faces/s |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const { name, ours, ref: rf } of rows) {
    const faces = ours && ours.faces !== rf.faces ? `${ours.faces} / ${rf.faces}` : String(rf.faces);
    out.push(
      `| ${name} | ${faces} | ${fmt(ours && ours.median_ms, 2)} | ${fmt(rf.median_ms, 2)} | ` +
        `${fmt(ours ? ours.median_ms / rf.median_ms : NaN, 2)} | ${fmt(ours && ours.p90_ms, 2)} | ${fmt(rf.p90_ms, 2)} | ` +
        `${fmt(ours && ours.faces_per_s, 1)} | ${fmt(rf.faces_per_s, 1)} |`,
    );
  }
  out.push('');
  out.push(
    `Reference decode alone (median ms, included above): ${rows.map((r) => `${r.name} ${fmt(r.refDecode, 2)}`).join(', ')}.`,
  );
  out.push(
    `CPU: ${cpuModel()}; node ${process.version}; onnxruntime-node ${ortVersion} (CPU EP, intra/inter-op ` +
      `threads 1, sequential); reference JPEG decoder libjpeg-turbo (WASM); ${opts.rounds} alternating ` +
      `rounds of ${opts.runs} timed runs after ${opts.warmup} warm-up runs per image and pipeline ` +
      '(median of the round medians), single thread; faces/s = faces / median.',
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
