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
const path = require('path');
const { REPO, DEFAULT_BIN, DEFAULT_MODELS, BIN_MODELS_HELP, die, parseArgv } = require('./common');
const { medianOf, fmt, cpuModel, checkBinary, runJson, ortVersion } = require('./common');

const IMAGES = ['obama-1080p.jpg', 'two_people.jpg'];

function usage() {
  return [
    'usage: node bench/pipeline.js [--bin PATH] [--models DIR] [--faces DIR] [--runs N] [--rounds R] [--warmup W] [--ref-only]',
    ...BIN_MODELS_HELP,
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
    bin: DEFAULT_BIN,
    models: DEFAULT_MODELS,
    faces: process.env.FV_FACES_DIR || path.join(REPO, '..', 'shared', 'data', 'faces'),
    runs: 30,
    rounds: 3,
    warmup: 3,
    refOnly: false,
  };
  parseArgv(argv, usage, (a, next) => {
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
    else return false;
    return true;
  });
  return opts;
}

function runOurs(opts, file) {
  const args = ['bench', 'face', file, '--runs', String(opts.runs), '--warmup', String(opts.warmup), '--models', opts.models];
  return runJson(opts.bin, args, opts.models, ['faces', 'median_ms', 'p90_ms', 'faces_per_s']);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.refOnly) checkBinary(opts.bin, '--ref-only to time the reference alone');
  const files = IMAGES.map((n) => path.join(opts.faces, n));
  for (const f of files) if (!fs.existsSync(f)) die(`${f} not found (set FV_FACES_DIR or --faces)`);
  let ref;
  try {
    ref = require(path.join(REPO, 'tools', 'ref-pipeline'));
  } catch (e) {
    die(`cannot load tools/ref-pipeline (${e.message})`);
  }
  const models = await ref.open({ models: opts.models });
  const ortVer = ortVersion();

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
    const mid = (list, key) => medianOf(list.map((x) => x[key]));
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
    rows.push({ name, ours: pick(oursR), ref: pick(refR), refDecode: medianOf(dt) });
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
    `CPU: ${cpuModel()}; node ${process.version}; onnxruntime-node ${ortVer} (CPU EP, intra/inter-op ` +
      `threads 1, sequential); reference JPEG decoder libjpeg-turbo (WASM); ${opts.rounds} alternating ` +
      `rounds of ${opts.runs} timed runs after ${opts.warmup} warm-up runs per image and pipeline ` +
      '(median of the round medians), single thread; faces/s = faces / median.',
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
