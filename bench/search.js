#!/usr/bin/env node
// Benchmarks fairvisit's 1:N search (src/index) against FAISS (Debian libfaiss-dev) on the same
// random 512-d unit vectors and queries, and prints a markdown table.
// Rows: templates x {float, int8} x threads; per row, fairvisit and FAISS alternate for R rounds
// (the figures are medians over rounds). Both programs generate the data from the same seed with
// the same generator and print a checksum of it; a mismatch stops the run.
// Usage: node bench/search.js [--build DIR] [--sizes 10000,100000,1000000] [--threads 1,2]
//                             [--modes float,int8] [--rounds R] [--no-build]
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { REPO, die, parseArgv, medianOf, fmt, cpuModel } = require('./common');

function usage() {
  return [
    'usage: node bench/search.js [--build DIR] [--sizes N,...] [--threads T,...] [--modes float,int8]',
    '                            [--rounds R] [--no-build]',
    '  --build DIR   CMake build directory (default build-release); configured and built unless --no-build',
    '  --sizes       templates per row (default 10000,100000,1000000)',
    '  --threads     thread counts (default 1,2)',
    '  --modes       float and/or int8 (default both)',
    '  --rounds R    alternating rounds per row (default 1)',
    '',
  ].join('\n');
}

function parseList(v, what) {
  const xs = v.split(',').map((s) => s.trim());
  for (const x of xs) if (!/^[1-9][0-9]*$/.test(x)) die(`${what}: "${x}" is not a positive integer`);
  return xs.map(Number);
}

function parseArgs(argv) {
  const o = {
    build: path.join(REPO, 'build-release'),
    sizes: [10000, 100000, 1000000],
    threads: [1, 2],
    modes: ['float', 'int8'],
    rounds: 1,
    doBuild: true,
  };
  parseArgv(argv, usage, (a, next) => {
    if (a === '--build') o.build = path.resolve(next());
    else if (a === '--sizes') o.sizes = parseList(next(), '--sizes');
    else if (a === '--threads') o.threads = parseList(next(), '--threads');
    else if (a === '--modes') {
      o.modes = next().split(',');
      for (const m of o.modes) if (m !== 'float' && m !== 'int8') die(`unknown mode "${m}"`);
    } else if (a === '--rounds') o.rounds = parseList(next(), '--rounds')[0];
    else if (a === '--no-build') o.doBuild = false;
    else return false;
    return true;
  });
  return o;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const line = `${cmd} ${args.join(' ')}`;
  if (r.error) die(`could not run ${line}: ${r.error.message}`);
  if (r.status !== 0) {
    die(`${line} failed (${r.signal ? `signal ${r.signal}` : `exit status ${r.status}`})\n${r.stderr || ''}`);
  }
  return r.stdout;
}

function build(o) {
  run('cmake', ['-S', REPO, '-B', o.build, '-DCMAKE_BUILD_TYPE=Release'], { stdio: ['ignore', 'ignore', 'inherit'] });
  run('cmake', ['--build', o.build, '-j2', '--target', 'fairvisit', 'search_faiss'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

// Runs one program and returns its last stdout line as JSON.
function measure(bin, args) {
  const out = run(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = out.split('\n').map((l) => l.trim()).filter((l) => l);
  if (!lines.length) die(`${bin} printed nothing`);
  let j;
  try {
    j = JSON.parse(lines[lines.length - 1]);
  } catch (e) {
    die(`${bin}: last line is not JSON: ${lines[lines.length - 1]}`);
  }
  for (const k of ['qps', 'median_us', 'bytes_per_template']) {
    if (typeof j[k] !== 'number' || !Number.isFinite(j[k])) die(`${bin}: JSON lacks a numeric "${k}"`);
  }
  return j;
}

// Fewer queries for larger stores (FAISS takes about a second per 1M-template query here).
function queriesFor(n) {
  return n <= 10000 ? 500 : n <= 100000 ? 100 : 40;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.doBuild) build(o);
  const ours = path.join(o.build, 'fairvisit');
  const faiss = path.join(o.build, 'search_faiss');
  for (const b of [ours, faiss]) {
    if (!fs.existsSync(b)) {
      die(`${b} not found (search_faiss needs libfaiss-dev and g++: run tools/setup-deps, then re-run without --no-build)`);
    }
  }
  const rows = [];
  let kernels = '';
  const t0 = Date.now();
  for (const n of o.sizes) {
    for (const mode of o.modes) {
      for (const t of o.threads) {
        const args = ['--templates', String(n), '--threads', String(t), '--queries', String(queriesFor(n))];
        if (mode === 'int8') args.push('--int8');
        process.stderr.write(`bench/search.js: ${n} templates, ${mode}, ${t} thread(s)...\n`);
        const a = [];
        const b = [];
        for (let r = 0; r < o.rounds; r++) {
          a.push(measure(ours, ['bench', 'search', ...args]));
          b.push(measure(faiss, args));
          if (a[r].data_checksum !== b[r].data_checksum) {
            die(`data differ between the programs (checksums ${a[r].data_checksum} vs ${b[r].data_checksum})`);
          }
        }
        kernels = a[0].kernels;
        const m = (xs, k) => medianOf(xs.map((x) => x[k]));
        rows.push({
          n, mode, t,
          oq: m(a, 'qps'), fq: m(b, 'qps'), om: m(a, 'median_us'), fm: m(b, 'median_us'),
          ob: a[0].bytes_per_template, fb: b[0].bytes_per_template, fbq: m(b, 'batch_qps'),
          orc: mode === 'int8' ? m(a, 'recall_at_10') : NaN, frc: mode === 'int8' ? m(b, 'recall_at_10') : NaN,
        });
      }
    }
  }
  const secs = (Date.now() - t0) / 1000;
  const out = [];
  out.push('| templates | mode | threads | fairvisit q/s | FAISS q/s | fairvisit median µs | FAISS median µs | ratio ours/FAISS (median) | fairvisit B/template | FAISS B/template | recall@10 ours / FAISS | FAISS batch q/s |');
  out.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|');
  for (const r of rows) {
    const rec = r.mode === 'int8' ? `${fmt(r.orc, 3)} / ${fmt(r.frc, 3)}` : 'exact';
    out.push(
      `| ${r.n} | ${r.mode} | ${r.t} | ${fmt(r.oq, 0)} | ${fmt(r.fq, 1)} | ${fmt(r.om, 0)} | ${fmt(r.fm, 0)} | ` +
        `${fmt(r.om / r.fm, 3)} | ${r.ob} | ${r.fb} | ${rec} | ${fmt(r.fbq, 1)} |`,
    );
  }
  out.push('');
  out.push(
    `CPU: ${cpuModel()} (${os.cpus().length} logical CPUs); fairvisit kernels ${kernels}; FAISS from ` +
      'Debian libfaiss-dev (IndexFlatIP for float, IndexScalarQuantizer QT_8bit for int8, OpenMP threads); ' +
      `top-10, one query per call, ${o.rounds} round(s) per row; run took ${secs.toFixed(0)} s.`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
