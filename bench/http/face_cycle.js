// bench/http/face_cycle.js - complete face check-ins against a running `fairvisit serve`, one
// after the other, timed step by step: consent -> liveness start -> camera frames until the check
// passes -> POST checkins/face (docs/api/kiosk.md, "The face path").
//
// Why a video: the liveness check wants a frontal face, the asked action (a blink or a head turn)
// and a frontal face again, judged from the landmarks across frames; a still photo sent over and
// over never gets past the action (bench/http/frames.lua measures that case). The frames here come
// from the development clip short_hamilton_clip.mp4 (../shared/data/faces; a real person on a real
// camera, 640x360, 30 fps), decoded in headless Chromium (playwright-core from tools/node_modules)
// into JPEGs (quality 0.85, as the kiosk page sends them) held in memory only, never written
// anywhere. From 4.0 s on the person turns their head to their right and back: that passes a
// `turn_right` check, and the same frames mirrored pass a `turn_left` check. Nobody blinks visibly
// in the clip, so a `blink` challenge cannot be passed with it: such a check is left (it expires
// after its 2 minutes) and another is started under the same consent; those starts are counted
// and not part of the timing. The server is not changed in any way.
//
// Per cycle (alternating the logins reception and kiosk, each with its own rate limit of 10
// liveness checks at once, then 20 a minute; a 429 is waited out, outside the timing): a new
// consent, a liveness start, the clip's frames from --from seconds on, one request after the
// other, until `passed` (at most --max-frames), then the check-in by face without a phone. The
// first cycle is a first visit (the template is stored), the others are returns recognised by
// face. Cycle time = the sum of that cycle's request times (no pauses: a kiosk also waits
// 250 ms between frames, and the visitor takes their time).
//
// Usage: node bench/http/face_cycle.js --base http://127.0.0.1:PORT --logins SITE/demo-logins.txt
//          [--cycles 50] [--clip PATH] [--from 4.0] [--max-frames 90] [--chromium PATH]
// Prints a markdown table (step, n, median ms, p99 ms) and, last, a JSON line.
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');
const { REPO, die, parseArgv, median, percentile, fmt } = require('../common');

const opt = {
  base: '',
  logins: '',
  cycles: 50,
  clip: path.join(process.env.FV_FACES_DIR || path.join(REPO, '..', 'shared', 'data', 'faces'),
    'short_hamilton_clip.mp4'),
  from: 4.0,
  maxFrames: 90,
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};
const usage = () => 'usage: node bench/http/face_cycle.js --base URL --logins FILE [--cycles N]' +
  ' [--clip PATH] [--from SECONDS] [--max-frames N] [--chromium PATH]\n';
parseArgv(process.argv.slice(2), usage, (a, next) => {
  if (a === '--base') opt.base = next().replace(/\/$/, '');
  else if (a === '--logins') opt.logins = next();
  else if (a === '--cycles') opt.cycles = Number(next());
  else if (a === '--clip') opt.clip = next();
  else if (a === '--from') opt.from = Number(next());
  else if (a === '--max-frames') opt.maxFrames = Number(next());
  else if (a === '--chromium') opt.chromium = next();
  else return false;
  return true;
});
if (!opt.base || !opt.logins) die(`--base and --logins are required\n${usage()}`);
if (!fs.existsSync(opt.clip)) die(`no clip at ${opt.clip}`);
const FPS = 30;

// The clip's frames from opt.from on, as JPEG Buffers: {plain: [...], mirrored: [...]}.
async function clipFrames() {
  let chromium;
  try {
    ({ chromium } = createRequire(path.join(REPO, 'tools', 'package.json'))('playwright-core'));
  } catch (e) {
    die('playwright-core is not installed in tools/node_modules (run tools/npm-install)');
  }
  // --allow-file-access-from-files: the clip's frames may be read back from the canvas.
  const browser = await chromium.launch({
    executablePath: opt.chromium,
    args: ['--allow-file-access-from-files'],
  });
  try {
    const page = await browser.newPage();
    await page.goto('file://' + path.resolve(opt.clip)); // Chromium's own page for a video file
    return await page.evaluate(async ({ from, n, fps }) => {
      const v = document.querySelector('video');
      v.pause();
      v.muted = true;
      if (v.readyState < 1) {
        await new Promise((res, rej) => {
          v.addEventListener('loadedmetadata', res, { once: true });
          v.addEventListener('error', () => rej(new Error('the clip cannot be decoded')), { once: true });
        });
      }
      const c = document.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const ctx = c.getContext('2d');
      const jpeg = async () => {
        const b = await new Promise((res) => c.toBlob(res, 'image/jpeg', 0.85));
        const u = new Uint8Array(await b.arrayBuffer());
        let s = '';
        for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
        return btoa(s);
      };
      const out = { plain: [], mirrored: [] };
      for (let k = 0; k < n; k++) {
        const t = from + k / fps;
        if (t >= v.duration) break;
        await new Promise((res) => {
          v.addEventListener('seeked', res, { once: true });
          v.currentTime = t;
        });
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.drawImage(v, 0, 0);
        out.plain.push(await jpeg());
        ctx.setTransform(-1, 0, 0, 1, c.width, 0);
        ctx.drawImage(v, 0, 0);
        out.mirrored.push(await jpeg());
      }
      ctx.clearRect(0, 0, c.width, c.height);
      return { ...out, width: c.width, height: c.height };
    }, { from: opt.from, n: opt.maxFrames, fps: FPS }).then((r) => ({
      plain: r.plain.map((s) => Buffer.from(s, 'base64')),
      mirrored: r.mirrored.map((s) => Buffer.from(s, 'base64')),
      width: r.width,
      height: r.height,
    }));
  } finally {
    await browser.close();
  }
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

async function login(name, password) {
  const r = await fetch(`${opt.base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: name, password }),
  });
  if (r.status !== 200) die(`login ${name}: HTTP ${r.status}`);
  const m = /fv_session=([0-9a-f]+)/.exec(r.headers.get('set-cookie') || '');
  const body = await r.json();
  if (!m || !body.csrf) die(`login ${name}: no session cookie or csrf`);
  return { name, headers: { cookie: `fv_session=${m[1]}`, 'x-csrf-token': body.csrf } };
}

const stats = { non2xx: 0 };
// POST as `who`; returns {status, body, ms}.
async function post(who, p, body, type = 'application/json') {
  const t0 = process.hrtime.bigint();
  const r = await fetch(opt.base + p, {
    method: 'POST',
    headers: { ...who.headers, 'content-type': type },
    body: type === 'application/json' ? JSON.stringify(body) : body,
  });
  const json = await r.json();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { status: r.status, body: json, ms };
}
function expect200(step, r) {
  if (r.status !== 200) {
    stats.non2xx++;
    die(`${step}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  }
}

async function main() {
  const creds = Object.fromEntries(fs.readFileSync(opt.logins, 'utf8').trim().split('\n')
    .map((l) => l.trim().split(/\s+/)).map(([l, , p]) => [l, p]));
  if (!creds.reception || !creds.kiosk) die(`${opt.logins} lacks the reception or kiosk login`);
  const frames = await clipFrames();
  if (!frames.plain.length) die('no frames decoded from the clip');
  process.stdout.write(`face_cycle: ${frames.plain.length} frames of ${path.basename(opt.clip)} ` +
    `(${frames.width}x${frames.height}) from ${opt.from} s, plain and mirrored, in memory\n`);
  const who = [await login('reception', creds.reception), await login('kiosk', creds.kiosk)];
  const notice = await (await fetch(`${opt.base}/api/v1/projects/demo/notice`)).json();

  const t = { consent: [], liveness: [], frame: [], checkin: [], cycle: [] };
  const framesPerCycle = [];
  const kinds = {};
  let discarded = 0;
  let waited = 0;
  let failed = 0;
  for (let i = 0; i < opt.cycles; i++) {
    const u = who[i % who.length];
    const c = await post(u, '/api/v1/projects/demo/consents',
      { notice_version: notice.version, notice_hash: notice.hash, age: 'adult' });
    expect200('consent', c);
    let l;
    for (;;) {
      l = await post(u, '/api/v1/projects/demo/liveness', { consent_id: c.body.consent_id });
      if (l.status === 429) {
        waited++;
        await sleep(3000);
        continue;
      }
      expect200('liveness start', l);
      if (l.body.challenge === 'turn_right' || l.body.challenge === 'turn_left') break;
      discarded++; // a blink: the clip cannot pass it
    }
    const seq = l.body.challenge === 'turn_right' ? frames.plain : frames.mirrored;
    let fms = 0;
    let n = 0;
    let passed = false;
    for (const img of seq) {
      const f = await post(u, `/api/v1/liveness/${l.body.liveness_id}/frames`, img, 'image/jpeg');
      expect200('frame', f);
      t.frame.push(f.ms);
      fms += f.ms;
      n++;
      if (f.body.passed) {
        passed = true;
        break;
      }
    }
    if (!passed) {
      failed++;
      process.stdout.write(`face_cycle: cycle ${i + 1} (${l.body.challenge}) did not pass in ${n} frames\n`);
      continue;
    }
    const k = await post(u, '/api/v1/projects/demo/checkins/face', { liveness_id: l.body.liveness_id });
    expect200('check-in', k);
    kinds[k.body.kind] = (kinds[k.body.kind] || 0) + 1;
    t.consent.push(c.ms);
    t.liveness.push(l.ms);
    t.checkin.push(k.ms);
    t.cycle.push(c.ms + l.ms + fms + k.ms);
    framesPerCycle.push(n);
  }

  const row = (name, xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return `| ${name} | ${s.length} | ${fmt(median(s), 1)} | ${fmt(percentile(s, 99), 1)} |`;
  };
  process.stdout.write('\n| step | n | median ms | p99 ms |\n|---|---:|---:|---:|\n');
  process.stdout.write([
    row('POST consents', t.consent),
    row('POST liveness (start)', t.liveness),
    row(`POST liveness/:id/frames (${frames.width}x${frames.height} JPEG)`, t.frame),
    row('POST checkins/face', t.checkin),
    row('whole cycle (sum of its requests)', t.cycle),
  ].join('\n') + '\n\n');
  const fpc = median([...framesPerCycle].sort((a, b) => a - b));
  process.stdout.write(`cycles passed: ${t.cycle.length} of ${opt.cycles}; frames per cycle: median ${fpc}; ` +
    `check-ins: ${Object.entries(kinds).map(([k, v]) => `${k} ${v}`).join(', ')}; ` +
    `blink checks left unused: ${discarded}; rate-limit waits: ${waited}; non-2xx: ${stats.non2xx}\n`);
  const ms = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return { median: Number(fmt(median(s), 2)), p99: Number(fmt(percentile(s, 99), 2)) };
  };
  process.stdout.write(JSON.stringify({
    cycles: t.cycle.length, failed, frames_per_cycle: fpc, kinds, discarded_blink: discarded,
    cycle_ms: ms(t.cycle), frame_ms: ms(t.frame), checkin_ms: ms(t.checkin),
    consent_ms: ms(t.consent), liveness_ms: ms(t.liveness),
  }) + '\n');
  if (failed > 0 || t.cycle.length === 0) process.exitCode = 1;
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
