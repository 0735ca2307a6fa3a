// server.mjs - the fairvisit binary as the API test runs it: `fairvisit init --site TMP --demo`
// into a temporary folder, then `fairvisit serve` as a child process on a free loopback port
// (a random high port, retried when the server says it cannot listen there), its stdout and stderr
// (the access log) kept in memory, and a clean stop with SIGTERM.
//
// The child runs in a session of its own (setsid), so it has no controlling terminal: the console
// one-time-code gateway then writes "one-time code for 139****0001: 123456" to stderr, where
// otpCode() reads it. Under AddressSanitizer the child gets detect_leaks=1 on top of the caller's
// ASAN_OPTIONS; sanitizerReport() finds an ASan, LSan, UBSan or TSan report in its stderr.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function childEnv(extra = {}) {
  const asan = [process.env.ASAN_OPTIONS, 'detect_leaks=1'].filter(Boolean).join(':');
  return { ...process.env, ASAN_OPTIONS: asan, ...extra };
}

// Runs `fairvisit init --site DIR --demo` in a new temporary folder; returns {root, site, logins}.
export function makeDemoSite(bin) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fv-apitest-'));
  const site = path.join(root, 'site');
  const r = spawnSync(bin, ['init', '--site', site, '--demo'], {
    env: childEnv(),
    encoding: 'utf8',
    timeout: 300000,
  });
  if (r.status !== 0) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`fairvisit init --demo failed (${r.status ?? r.signal}): ${r.stderr}`);
  }
  const logins = {};
  for (const line of fs.readFileSync(path.join(site, 'demo-logins.txt'), 'utf8').split('\n')) {
    const [login, role, password] = line.trim().split(/\s+/);
    if (login && password) logins[login] = { login, role, password };
  }
  return { root, site, logins, initStderr: r.stderr };
}

function randomPort() {
  return 20000 + Math.floor(Math.random() * 40000);
}

export class Server {
  constructor(bin, site, { https = false, models = null } = {}) {
    this.bin = bin;
    this.site = site;
    this.https = https;
    this.models = models;
    this.stdout = '';
    this.stderr = '';
    this.child = null;
    this.exit = null; // {code, signal} once it ended
  }

  // Starts the server; resolves once it prints that it runs. Retries on a port in use.
  async start() {
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = randomPort();
      const tlsPort = this.https ? randomPort() : null;
      if (tlsPort === port) continue;
      const args = ['serve', '--site', this.site, '--listen', `127.0.0.1:${port}`];
      if (tlsPort) args.push('--https', `127.0.0.1:${tlsPort}`);
      if (this.models) args.push('--models', this.models);
      const ok = await this.#spawn(args);
      if (ok) {
        this.port = port;
        this.tlsPort = tlsPort;
        const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(this.stdout);
        if (!m || Number(m[1]) !== port) {
          throw new Error(`the server says it serves on another port: ${this.stdout}`);
        }
        this.base = `http://127.0.0.1:${port}`;
        this.tlsBase = tlsPort ? `https://127.0.0.1:${tlsPort}` : null;
        return this;
      }
      if (!/cannot listen/.test(this.stderr)) {
        throw new Error(`fairvisit serve did not start (${JSON.stringify(this.exit)}): ${this.stderr}`);
      }
    }
    throw new Error('no free port found in 20 tries');
  }

  #spawn(args) {
    this.stdout = '';
    this.stderr = '';
    this.exit = null;
    return new Promise((resolve) => {
      const child = spawn(this.bin, args, {
        env: childEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // setsid: no controlling terminal, so one-time codes go to stderr
      });
      this.child = child;
      let settled = false;
      const settle = (v) => {
        if (!settled) {
          settled = true;
          resolve(v);
        }
      };
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (d) => {
        this.stdout += d;
        if (/running/.test(this.stdout)) settle(true);
      });
      child.stderr.on('data', (d) => {
        this.stderr += d;
      });
      this.exited = new Promise((res) => {
        child.on('close', (code, signal) => {
          this.exit = { code, signal };
          settle(false);
          res(this.exit);
        });
      });
      child.on('error', (e) => {
        this.stderr += `spawn error: ${e.message}\n`;
        settle(false);
      });
    });
  }

  alive() {
    return this.child !== null && this.exit === null;
  }

  // SIGTERM, then waits for the exit (SIGKILL after timeoutMs).
  async stop(timeoutMs = 60000) {
    if (!this.alive()) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), timeoutMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }

  kill() {
    if (this.alive()) {
      try {
        this.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  // The code the console gateway printed for a masked phone (waits for the line).
  async otpCode(mask, afterOffset = 0, timeoutMs = 10000) {
    const re = new RegExp(`one-time code for ${mask.replace(/\*/g, '\\*')}: (\\d{6})`, 'g');
    const t0 = Date.now();
    for (;;) {
      let last = null;
      for (const m of this.stderr.slice(afterOffset).matchAll(re)) last = m[1];
      if (last !== null) return last;
      if (Date.now() - t0 > timeoutMs) throw new Error(`no one-time code for ${mask} on the server's stderr`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // The first sanitizer report in stderr, or null.
  sanitizerReport() {
    const re = /(==\d+==\s*ERROR: (AddressSanitizer|LeakSanitizer)|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|ThreadSanitizer|runtime error:)/;
    const m = re.exec(this.stderr);
    if (!m) return null;
    return this.stderr.slice(Math.max(0, m.index - 200), m.index + 4000);
  }
}

// Runs `fairvisit serve` with args expecting it to refuse to start: {code, signal, stdout, stderr}.
export function runRefused(bin, args, timeoutMs = 60000) {
  const r = spawnSync(bin, args, { env: childEnv(), encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
