// Helpers shared by the benchmark scripts (bench/nn.js, bench/pipeline.js, bench/search.js):
// error exit, the command-line walk, median/percentile, the CPU name, the fairvisit binary check
// and JSON run, and onnxruntime-node from tools/node_modules.
// Usage: const { die, parseArgv, ... } = require('./common');
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { createRequire } = require('module');

const REPO = path.resolve(__dirname, '..');
const TOOLS_DIR = path.join(REPO, 'tools');
const ORT_PACKAGE_JSON = path.join(TOOLS_DIR, 'node_modules', 'onnxruntime-node', 'package.json');
// Defaults of --bin and --models, and their lines in the usage texts.
const DEFAULT_BIN = path.join(REPO, 'build-release', 'fairvisit');
const DEFAULT_MODELS = path.join(REPO, 'models');
const BIN_MODELS_HELP = [
  '  --bin PATH        fairvisit binary (default build-release/fairvisit)',
  '  --models DIR      folder with the .onnx files (default models/)',
];

// The running script as the messages name it, e.g. "bench/nn.js".
const SCRIPT = require.main
  ? path.relative(REPO, require.main.filename).split(path.sep).join('/')
  : 'bench';

function die(msg) {
  process.stderr.write(`${SCRIPT}: error: ${msg}\n`);
  process.exit(1);
}

// Walks the command line: handle(arg, next) is called for every argument and returns false for an
// unknown one; next() returns the argument's value (dying if there is none). -h/--help prints
// usage() and exits.
function parseArgv(argv, usage, handle) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`missing value after ${a}\n${usage()}`);
      return argv[++i];
    };
    if (handle(a, next)) continue;
    if (a === '-h' || a === '--help') {
      process.stdout.write(usage());
      process.exit(0);
    }
    die(`unknown argument: ${a}\n${usage()}`);
  }
}

// Median of an ascending array.
function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

// Median of any array (sorts a copy).
function medianOf(xs) {
  return median([...xs].sort((a, b) => a - b));
}

// Nearest-rank percentile of an ascending array.
function percentile(sorted, p) {
  const k = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[k - 1];
}

function fmt(v, digits) {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
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

// Dies unless bin is an executable file; alone names the option that skips fairvisit, as
// "--ort-only to measure ONNX Runtime alone".
function checkBinary(bin, alone) {
  let st;
  try {
    st = fs.statSync(bin);
  } catch (e) {
    die(
      `fairvisit binary not found at ${bin}\n` +
        '  build it with: cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release && cmake --build build-release -j\n' +
        `  or pass --bin PATH (or ${alone})`,
    );
  }
  if (!st.isFile()) die(`${bin} is not a file`);
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch (e) {
    die(`${bin} is not executable`);
  }
}

// Runs "bin args..." in the repository with FV_MODELS_DIR=models and returns its last stdout line
// as JSON, which must hold a finite number under each of keys.
function runJson(bin, args, models, keys) {
  const r = spawnSync(bin, args, {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FV_MODELS_DIR: models },
  });
  const cmd = `${bin} ${args.join(' ')}`;
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
  for (const k of keys) {
    if (typeof j[k] !== 'number' || !Number.isFinite(j[k])) die(`${cmd}: JSON lacks a numeric "${k}"`);
  }
  return j;
}

// The onnxruntime-node version installed by tools/npm-install.
function ortVersion() {
  return JSON.parse(fs.readFileSync(ORT_PACKAGE_JSON, 'utf8')).version;
}

// onnxruntime-node from tools/node_modules and its version; dies if it is not installed.
function loadOrt() {
  const req = createRequire(path.join(TOOLS_DIR, 'package.json'));
  try {
    return { ort: req('onnxruntime-node'), version: ortVersion() };
  } catch (e) {
    die(`cannot load onnxruntime-node from tools/node_modules (${e.message}); run tools/npm-install first`);
  }
  return null;
}

module.exports = {
  REPO, DEFAULT_BIN, DEFAULT_MODELS, BIN_MODELS_HELP, die, parseArgv, median, medianOf, percentile, fmt, cpuModel,
  checkBinary, runJson, ortVersion, loadOrt,
};
