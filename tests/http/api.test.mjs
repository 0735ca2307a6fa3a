#!/usr/bin/env node
// api.test.mjs - the HTTP API over real HTTP on loopback (docs/api.md, docs/api/*.md), against the
// built binary ($FV_BIN): a demo site made with `fairvisit init --demo`, `fairvisit serve` as a
// child process (plain HTTP on 127.0.0.1 and HTTPS with the site's certificate), one login per
// role, and then:
//
// - the role matrix, read from the route tables themselves (src/http/routes_*.c, routes.mjs):
//   every endpoint is called by every role and anonymously; the allowed callers get a sample
//   request from CASES below (path ids from the demo data or made for the call, a valid body) and
//   must succeed or fail for a documented business reason; every other role gets 403 forbidden
//   and an anonymous caller 401. An endpoint without a case here fails the test ("no test case
//   for POST /api/v1/x"), and so does a case for an endpoint that no longer exists;
// - CSRF: every state change by a session without the X-CSRF-Token header, or with another
//   session's, is 403 csrf; API tokens (Authorization: Bearer) need none, and a revoked token or a
//   disabled user's is 401;
// - scopes inside the allowed roles: agents and channel managers act for their own agent or
//   channel only (registrations, appeals, QR scans, projects), the kiosk names no escort, the last
//   admin cannot be disabled;
// - request hygiene: malformed JSON, wrong types, unknown and missing fields, a wrong Content-Type,
//   bodies over 64 KiB and uploads over 8 MiB, unknown routes, wrong methods, bad ids, hostile
//   bytes on the socket, at most 32 connections per address; the login, one-time-code and
//   self-service rate limits (429 with Retry-After);
// - the session cookie's attributes, the security headers, HTTPS with the site's certificate,
//   plain HTTP refused on a non-loopback address;
// - concurrency: 50 parallel check-ins of 25 phones give exactly 25 first visits; two agents of
//   different channels registering one phone at once: exactly one is accepted; failures at once
//   each get a message, and their own (the ledger keeps messages per thread);
// - at the end: the server still answers, stops cleanly on SIGTERM (exit 0, "stopped"), its
//   stderr holds no AddressSanitizer/LeakSanitizer/UBSan report, and neither its access log nor
//   any error message a phone, name, slip code, token or password used here.
//
// Callers use their own loopback source addresses (127.0.0.x), since the server's rate limits and
// connection caps count per client address. Run: FV_BIN=build/fairvisit node tests/http/api.test.mjs
// (CTest: test_http_api, cmake/http_tests.cmake). FV_KEEP=1 keeps the temporary site.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import { hooks, rawExchange, request, Session, sessionCookie } from './client.mjs';
import { ANON, CALLERS, readRoutes, serverTables } from './routes.mjs';
import { makeDemoSite, runRefused, Server } from './server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.FV_BIN || path.join(REPO, 'build', 'fairvisit');
const MODELS = process.env.FV_MODELS_DIR || path.join(REPO, 'models');
const HAVE_MODELS = fs.existsSync(path.join(MODELS, 'fr_detect.onnx'));
const RUN = String(1000 + crypto.randomInt(9000)); // 4 digits: this run's phones and names

// Source addresses: one per caller of the matrix, then fresh ones for helpers.
const ROLE_IP = {
  admin: '127.0.0.11',
  reception: '127.0.0.12',
  channel_manager: '127.0.0.13',
  agent: '127.0.0.14',
  auditor: '127.0.0.15',
  kiosk: '127.0.0.16',
  visitor: '127.0.0.17',
  [ANON]: '127.0.0.18',
};
let ipCounter = 0;
function helperIp() {
  ipCounter++;
  return `127.0.${1 + Math.floor(ipCounter / 250)}.${1 + (ipCounter % 250)}`;
}

// Demo logins per matrix role (the agent role is agent1: agent 1 of channel 2, the agency; the
// channel manager's channel is 2 as well).
const LOGIN_OF = {
  admin: 'admin',
  reception: 'reception',
  channel_manager: 'manager',
  agent: 'agent1',
  auditor: 'auditor',
  kiosk: 'kiosk',
};
const DEMO = 'demo';
const AGENT1 = 1; // channel 2
const AGENT2 = 2; // channel 3
const CHANNEL_OF_AGENT1 = 2;

// ---- shared state -------------------------------------------------------------------------------

let site; // {root, site, logins}
let srv; // Server
const S = {}; // matrix caller -> Session
let agent2; // Session of agent2 (channel 3)
let D = {}; // demo and setup data
const ROUTES = readRoutes(REPO);
// Every error message the server sent (checked for personal data at the end).
const ERROR_MESSAGES = [];
hooks.onResponse = (res, req) => {
  if (res.json?.error !== undefined) ERROR_MESSAGES.push({ where: `${req.method || 'GET'} ${req.path.replace(/\/[0-9a-f]{32}/, '/:id')}`, message: String(res.json.error.message) });
};
// What must never reach the access log (server stderr): value -> what it is.
const SECRETS = new Map();
function secret(value, what) {
  if (value !== undefined && value !== null && String(value).length >= 4) SECRETS.set(String(value), what);
  return value;
}

let phoneCounter = 0;
function newPhone() {
  phoneCounter++;
  return secret(`139${RUN}${String(phoneCounter).padStart(4, '0')}`, 'phone');
}
function mask(phone) {
  return `${phone.slice(0, 3)}****${phone.slice(7)}`;
}
let nameCounter = 0;
function newName() {
  nameCounter++;
  return secret(`测试客户 Apitest Customer ${RUN}-${nameCounter}`, 'customer name');
}
function newPassword() {
  return secret(`pw-${crypto.randomBytes(12).toString('hex')}`, 'password');
}
function describe(res) {
  const body = res.json !== undefined ? JSON.stringify(res.json) : res.text;
  return `${res.status} ${body.slice(0, 300)}`;
}
function expectStatus(res, status, code, what = '') {
  assert.equal(res.status, status, `${what} expected ${status}${code ? ` ${code}` : ''}, got ${describe(res)}`);
  if (code) assert.equal(res.json?.error?.code, code, `${what} expected error code ${code}, got ${describe(res)}`);
}

function anonymous(ip = helperIp()) {
  return new Session(srv.base, { role: ANON, ip });
}

function fill(pattern, params = {}) {
  return pattern.replace(/:(\w+)/g, (_, name) => String(params[name] ?? { code: DEMO, id: 1, file: 'common.js' }[name] ?? 1));
}

// ---- fixtures made through the API --------------------------------------------------------------

async function checkin(phone, by = S.reception) {
  const res = await by.post(`/api/v1/projects/${DEMO}/checkins`, { phone });
  expectStatus(res, 200, null, 'check-in');
  secret(res.json.slip, 'slip code');
  secret(res.json.qr, 'escort QR token');
  return res.json;
}

// Sends a one-time code through the kiosk endpoint; returns {otp_id, code}.
async function kioskOtp(phone, by = S.kiosk, ip = undefined) {
  const offset = srv.stderr.length;
  const res = await by.post(`/api/v1/projects/${DEMO}/otp`, { phone }, { ip });
  expectStatus(res, 200, null, 'one-time code');
  secret(res.json.otp_id, 'otp id');
  return { otp_id: res.json.otp_id, code: await srv.otpCode(mask(phone), offset) };
}

async function register(by, phone, agent = undefined) {
  const body = { customer_name: newName(), phone };
  if (agent !== undefined) body.agent = agent;
  const res = await by.post(`/api/v1/projects/${DEMO}/registrations`, body);
  expectStatus(res, 200, null, 'registration');
  return res.json;
}

// A first visit pending its escort: agent1 registers a new phone, reception checks it in.
async function pendingVisit() {
  const phone = newPhone();
  const reg = await register(S.agent, phone);
  assert.equal(reg.status, 'accepted', JSON.stringify(reg));
  const c = await checkin(phone);
  assert.equal(c.outcome, 'pending_escort', JSON.stringify(c));
  return { phone, visit: c.visit, qr: c.qr };
}

// A conflict claimed by agent1's channel (2): agent2 (channel 3) holds the phone first.
async function conflictOfChannel2() {
  const phone = newPhone();
  const first = await register(agent2, phone);
  assert.equal(first.status, 'accepted', JSON.stringify(first));
  const second = await register(S.agent, phone);
  assert.equal(second.status, 'refused', JSON.stringify(second));
  assert.ok(second.conflict > 0, `a refused registration opens a conflict: ${JSON.stringify(second)}`);
  return second.conflict;
}

// A visitor with a phone and a slip (checked in by reception).
async function visitorPerson() {
  const phone = newPhone();
  const c = await checkin(phone);
  return { phone, slip: c.slip };
}

// POST /me/otp for a person; returns {otp_id, code}.
async function meOtp(person, ip = helperIp()) {
  const offset = srv.stderr.length;
  const res = await anonymous(ip).post('/api/v1/me/otp', { slip: person.slip, phone: person.phone });
  expectStatus(res, 200, null, 'self-service code');
  assert.equal(res.json.phone_needed, true);
  secret(res.json.otp_id, 'otp id');
  return { otp_id: res.json.otp_id, code: await srv.otpCode(mask(person.phone), offset) };
}

// A visitor's self-service session (slip + phone + one-time code).
async function visitorSession(person = null, ip = ROLE_IP.visitor) {
  person = person || (await visitorPerson());
  const { otp_id, code } = await meOtp(person);
  const res = await anonymous().post('/api/v1/me/session', {
    slip: person.slip,
    phone: person.phone,
    otp_id,
    otp_code: code,
  });
  expectStatus(res, 200, null, 'self-service login');
  const cookie = secret(sessionCookie(res.setCookie), 'session token');
  secret(res.json.csrf, 'csrf token');
  const s = new Session(srv.base, { role: 'visitor', cookie, csrf: res.json.csrf, ip });
  s.person = person;
  return s;
}

async function staffLogin(login, role, ip) {
  const { session, res } = await Session.login(srv.base, login, site.logins[login].password, { role, ip });
  assert.ok(session, `login ${login}: ${describe(res)}`);
  secret(session.cookie, 'session token');
  secret(session.csrf, 'csrf token');
  return session;
}

// A second session of the same caller (for logging out without losing the first).
async function freshSession(role) {
  if (role === 'visitor') return visitorSession();
  return staffLogin(LOGIN_OF[role], role, ROLE_IP[role]);
}

async function createUser(role, scope = undefined) {
  const login = `apitest-${role.replace('_', '-')}-${RUN}-${crypto.randomBytes(3).toString('hex')}`;
  const password = newPassword();
  const body = { login, password, role };
  if (scope !== undefined) body.scope_id = scope;
  const res = await S.admin.post('/api/v1/users', body);
  expectStatus(res, 201, null, 'create user');
  return { id: res.json.id, login, password };
}

async function createToken(userId, name = 'apitest') {
  const res = await S.admin.post(`/api/v1/users/${userId}/tokens`, { name });
  expectStatus(res, 201, null, 'create token');
  secret(res.json.token, 'API token');
  return res.json.token;
}

async function tokenIdOf(userId) {
  const res = await S.admin.get('/api/v1/users');
  expectStatus(res, 200);
  const u = res.json.find((x) => x.id === userId);
  const live = u.tokens.filter((t) => t.revoked === null);
  return live[live.length - 1].id;
}

async function consent(by) {
  const res = await by.post(`/api/v1/projects/${DEMO}/consents`, {
    notice_version: D.notice.version,
    notice_hash: D.notice.hash,
    age: 'adult',
  });
  expectStatus(res, 200, null, 'consent');
  return secret(res.json.consent_id, 'consent id');
}

async function liveness(by) {
  const res = await by.post(`/api/v1/projects/${DEMO}/liveness`, { consent_id: await consent(by) });
  expectStatus(res, 200, null, 'liveness start');
  return secret(res.json.liveness_id, 'liveness id');
}

// A small grey PNG (no face in it).
function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(width, height, rows = null) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = rows ?? Buffer.concat(Array.from({ length: height }, () => Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x80)])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- the sample requests: one per endpoint ------------------------------------------------------
//
// run(caller) -> {path, body, contentType, session (instead of the caller's own)}: a request the
// caller may make; expect: what an allowed caller gets (a status, "409 refused" with the error
// code, a list of those, or {caller: ..., default: ...}); check(res, caller, req): more asserts.

const CASES = {
  // ---- auth
  'POST /api/v1/session': {
    run: async (caller) => {
      const login = caller === ANON ? 'agent2' : caller === 'visitor' ? 'agent3' : LOGIN_OF[caller];
      return { body: { login, password: site.logins[login].password }, login };
    },
    expect: 200,
    check: (res, caller, req) => {
      assert.equal(res.json.user.login, req.login);
      const cookie = secret(sessionCookie(res.setCookie), 'session token');
      assert.ok(cookie, 'a login sets the session cookie');
      secret(res.json.csrf, 'csrf token');
      if (caller !== ANON && caller !== 'visitor') {
        D.spare[caller] = new Session(srv.base, { role: caller, cookie, csrf: res.json.csrf, ip: ROLE_IP[caller] });
      }
    },
  },
  'GET /api/v1/session': {
    expect: 200,
    check: (res, caller) => {
      assert.equal(res.json.user.role, caller);
      assert.equal(res.json.csrf, S[caller].csrf, 'GET /session returns the CSRF token again');
    },
  },
  'DELETE /api/v1/session': {
    run: async (caller) => ({ session: D.spare[caller] || (await freshSession(caller)) }),
    expect: 200,
    check: async (res, caller, req) => {
      assert.deepEqual(res.json, { ok: true });
      assert.ok(res.setCookie.some((c) => /^fv_session=;/.test(c) && /Max-Age=0/.test(c)), 'logout clears the cookie');
      const gone = await req.session.get('/api/v1/session');
      expectStatus(gone, 401, 'unauthenticated', 'a logged-out session');
      delete D.spare[caller];
    },
  },

  // ---- admin
  'GET /api/v1/projects': {
    expect: 200,
    check: (res, caller) => {
      assert.ok(Array.isArray(res.json));
      assert.ok(res.json.some((p) => p.code === DEMO));
      if (caller === 'agent' || caller === 'channel_manager') {
        assert.deepEqual(res.json.map((p) => p.code), [DEMO], 'agents see their own project only');
      }
      const tuning = caller === 'admin' || caller === 'auditor';
      for (const p of res.json) {
        assert.equal('match_threshold' in p, tuning, `tuning numbers for ${caller}: ${tuning}`);
      }
    },
  },
  'POST /api/v1/projects': {
    run: async () => ({
      body: {
        code: `apitest-${RUN}-${crypto.randomBytes(2).toString('hex')}`,
        name: 'API test 接口测试',
        controller: 'Apitest Ltd',
        controller_contact: 'dpo@apitest.invalid',
        face_free: true,
      },
    }),
    expect: 201,
    check: (res, caller, req) => assert.equal(res.json.code, req.body.code),
  },
  'GET /api/v1/projects/:code': {
    expect: 200,
    check: (res) => assert.equal(res.json.code, DEMO),
  },
  'PUT /api/v1/projects/:code': {
    run: async () => ({ path: `/api/v1/projects/${D.testProject}`, body: { retention_days: 21, protection_days: 5 } }),
    expect: 200,
    check: (res) => {
      assert.equal(res.json.retention_days, 21);
      assert.equal(res.json.protection_days, 5);
    },
  },
  'GET /api/v1/projects/:code/channels': {
    expect: 200,
    check: (res) => assert.equal(res.json[0].kind, 'natural'),
  },
  'POST /api/v1/projects/:code/channels': {
    run: async () => ({
      path: `/api/v1/projects/${D.testProject}/channels`,
      body: { kind: 'agency', name: `Agency ${crypto.randomBytes(3).toString('hex')}`, commission: 'percent', commission_value: 150 },
    }),
    expect: 201,
    check: (res) => assert.ok(res.json.id > 0),
  },
  'GET /api/v1/projects/:code/agents': {
    expect: 200,
    check: (res) => assert.ok(res.json.some((a) => a.id === AGENT1)),
  },
  'POST /api/v1/channels/:id/agents': {
    run: async () => ({ path: `/api/v1/channels/${D.testChannel}/agents`, body: { name: 'Apitest Agent', team: 'T' } }),
    expect: 201,
    check: (res) => assert.ok(res.json.id > 0),
  },
  'GET /api/v1/projects/:code/notices': {
    expect: 200,
    check: (res) => {
      assert.equal(res.json.version, D.notice.version);
      assert.equal(res.json.hash, D.notice.hash);
    },
  },
  'POST /api/v1/projects/:code/notices': {
    run: async () => ({ path: `/api/v1/projects/${D.testProject}/notices`, body: { text_zh: '告知 测试', text_en: 'Notice, test' } }),
    expect: 201,
    check: (res) => assert.ok(res.json.version >= 1),
  },
  'GET /api/v1/users': {
    expect: 200,
    check: (res) => {
      assert.ok(res.json.some((u) => u.login === 'admin'));
      assert.ok(!/password|fvt_/.test(res.text), 'no password or token in the user list');
    },
  },
  'POST /api/v1/users': {
    run: async () => ({
      body: { login: `apitest-new-${RUN}-${crypto.randomBytes(3).toString('hex')}`, password: newPassword(), role: 'reception' },
    }),
    expect: 201,
    check: (res) => assert.ok(res.json.id > 0),
  },
  'PUT /api/v1/users/:id': {
    run: async () => ({ path: `/api/v1/users/${D.users.plain.id}`, body: { password: newPassword() } }),
    expect: 200,
    check: (res) => {
      assert.equal(res.json.login, D.users.plain.login);
      assert.equal(res.json.disabled, false);
    },
  },
  'POST /api/v1/users/:id/tokens': {
    run: async () => ({ path: `/api/v1/users/${D.users.plain.id}/tokens`, body: { name: 'matrix' } }),
    expect: 201,
    check: (res) => {
      secret(res.json.token, 'API token');
      assert.match(res.json.token, /^fvt_[0-9a-f]{60}$/);
    },
  },
  'DELETE /api/v1/tokens/:id': {
    run: async () => {
      const token = await createToken(D.users.plain.id, 'to-revoke');
      const id = await tokenIdOf(D.users.plain.id);
      return { path: `/api/v1/tokens/${id}`, token };
    },
    expect: 200,
    check: async (res, caller, req) => {
      assert.deepEqual(res.json, { ok: true });
      const s = new Session(srv.base, { token: req.token, ip: helperIp() });
      expectStatus(await s.get('/api/v1/session'), 401, 'unauthenticated', 'a revoked token');
    },
  },
  'GET /api/v1/audit/verify': {
    expect: 200,
    check: (res) => {
      assert.equal(res.json.ok, true, `the audit chain verifies: ${res.text}`);
      assert.ok(res.json.entries > 0);
    },
  },
  'POST /api/v1/purge': {
    run: async () => ({ body: {} }),
    expect: 200,
    check: (res) => assert.equal(typeof res.json.templates_deleted, 'number'),
  },

  // ---- kiosk
  'GET /api/v1/projects/:code/notice': {
    expect: 200,
    check: (res) => {
      assert.equal(res.json.project, DEMO);
      assert.equal(res.json.version, D.notice.version);
      assert.equal(res.json.face_free, false);
    },
  },
  'POST /api/v1/projects/:code/consents': {
    run: async () => ({ body: { notice_version: D.notice.version, notice_hash: D.notice.hash, age: 'adult' } }),
    expect: 200,
    check: (res) => assert.match(secret(res.json.consent_id, 'consent id'), /^[0-9a-f]{32}$/),
  },
  'POST /api/v1/consents/:id/withdraw': {
    // Recorded by a kiosk or reception (admins do not record consents), withdrawn by the caller.
    run: async (caller) => ({ path: `/api/v1/consents/${await consent(caller === 'admin' ? S.reception : S[caller])}/withdraw`, body: {} }),
    expect: 200,
    check: async (res, caller, req) => {
      assert.deepEqual(res.json, { withdrawn: true });
      const id = req.path.split('/')[4];
      const l = await S.reception.post(`/api/v1/projects/${DEMO}/liveness`, { consent_id: id });
      expectStatus(l, 409, 'refused', 'a liveness check under a withdrawn consent');
    },
  },
  'POST /api/v1/projects/:code/otp': {
    run: async () => ({ body: { phone: newPhone() } }),
    expect: 200,
    check: (res) => assert.match(secret(res.json.otp_id, 'otp id'), /^[0-9a-f]{32}$/),
  },
  'POST /api/v1/projects/:code/checkins': {
    run: async (caller) => {
      const phone = newPhone();
      if (caller !== 'kiosk') return { body: { phone } };
      const { otp_id, code } = await kioskOtp(phone);
      return { body: { phone, otp_id, otp_code: code } };
    },
    expect: 200,
    check: (res) => {
      assert.equal(res.json.kind, 'first');
      assert.equal(res.json.outcome, 'natural');
      assert.match(res.json.person, /^[0-9a-f]{32}$/);
      secret(res.json.slip, 'slip code');
      secret(res.json.qr, 'escort QR token');
    },
  },
  'POST /api/v1/projects/:code/liveness': {
    run: async (caller) => ({ body: { consent_id: await consent(S[caller]) } }),
    expect: 200,
    check: (res) => {
      secret(res.json.liveness_id, 'liveness id');
      assert.ok(['blink', 'turn_left', 'turn_right'].includes(res.json.challenge));
    },
  },
  'POST /api/v1/liveness/:id/frames': {
    run: async (caller) => ({ path: `/api/v1/liveness/${await liveness(S[caller])}/frames`, body: png(64, 48), contentType: 'image/png' }),
    // Without the face models the engine cannot load: 503 server_error (documented).
    expect: HAVE_MODELS ? 200 : '503 server_error',
    check: (res) => {
      if (!HAVE_MODELS) return;
      assert.equal(res.json.face, false);
      assert.deepEqual(res.json.reasons, ['no_face']);
      assert.equal(res.json.passed, false);
    },
  },
  'POST /api/v1/projects/:code/checkins/face': {
    // A liveness check needs a live face blinking or turning on camera: it has not passed, so
    // the check-in is refused (documented: 409 "the liveness check has not passed yet").
    run: async (caller) => ({ body: { liveness_id: await liveness(S[caller]) } }),
    expect: '409 refused',
  },

  // ---- reception
  'GET /api/v1/projects/:code/visits': {
    expect: 200,
    check: (res) => assert.ok(Array.isArray(res.json)),
  },
  'POST /api/v1/visits/:id/escort': {
    run: async () => {
      const pv = await pendingVisit();
      return { path: `/api/v1/visits/${pv.visit}/escort`, body: { agent: AGENT1 } };
    },
    expect: 200,
    check: (res) => assert.equal(res.json.outcome, 'channel_valid'),
  },
  'GET /api/v1/projects/:code/conflicts': {
    expect: 200,
    check: (res, caller) => {
      assert.ok(Array.isArray(res.json));
      if (caller === 'agent' || caller === 'channel_manager') {
        for (const c of res.json) assert.equal(c.channel, CHANNEL_OF_AGENT1, `${caller} sees only their channel's conflicts`);
      } else {
        assert.ok(res.json.length > 0);
      }
    },
  },
  'POST /api/v1/conflicts/:id/decision': {
    run: async () => ({ path: `/api/v1/conflicts/${await conflictOfChannel2()}/decision`, body: { verdict: 'uphold', reason: 'apitest decision' } }),
    expect: 200,
    check: (res) => assert.equal(res.json.verdict, 'uphold'),
  },
  'POST /api/v1/projects/:code/deals': {
    run: async () => {
      const phone = newPhone();
      await checkin(phone);
      return {
        body: { buyer_phones: [phone], amount_cents: 250000000, signed_ms: Date.now(), idempotency_key: `apitest-${RUN}-${crypto.randomBytes(4).toString('hex')}` },
      };
    },
    expect: 200,
    check: (res) => {
      assert.ok(res.json.id > 0);
      assert.equal(res.json.channel, 1, 'a natural visitor\'s deal is natural');
    },
  },
  'POST /api/v1/projects/:code/settle': {
    run: async () => ({ body: {} }),
    expect: 200,
    check: (res) => assert.equal(typeof res.json.settled, 'number'),
  },

  // ---- agent
  'POST /api/v1/projects/:code/registrations': {
    run: async (caller) => {
      const body = { customer_name: newName(), phone: newPhone(), expected_visit_ms: Date.now() + 86400000 };
      if (caller !== 'agent') body.agent = AGENT1;
      return { body };
    },
    expect: 200,
    check: (res, caller, req) => {
      assert.equal(res.json.status, 'accepted', res.text);
      assert.equal(res.json.phone_mask, mask(req.body.phone));
    },
  },
  'GET /api/v1/projects/:code/registrations': {
    expect: 200,
    check: (res, caller) => {
      assert.ok(Array.isArray(res.json));
      if (caller === 'agent') for (const r of res.json) assert.equal(r.agent, AGENT1, 'an agent sees only their own registrations');
      if (caller === 'channel_manager') for (const r of res.json) assert.equal(r.channel, CHANNEL_OF_AGENT1);
      for (const [v, what] of SECRETS) {
        if (what === 'phone' || what === 'customer name') assert.ok(!res.text.includes(v), `no ${what} in the registration list`);
      }
    },
  },
  'POST /api/v1/escort/scan': {
    run: async () => ({ body: { qr: (await pendingVisit()).qr } }),
    expect: 200,
    check: (res) => assert.equal(res.json.outcome, 'channel_valid'),
  },
  'POST /api/v1/conflicts/:id/appeal': {
    run: async () => ({ path: `/api/v1/conflicts/${await conflictOfChannel2()}/appeal`, body: { reason: 'apitest appeal' } }),
    expect: 200,
    check: (res) => assert.equal(res.json.status, 'appealed'),
  },

  // ---- reports
  'GET /api/v1/projects/:code/report': {
    expect: 200,
    check: (res) => {
      assert.equal(res.json.project.code, DEMO);
      for (const [v, what] of SECRETS) if (what === 'phone' || what === 'customer name') assert.ok(!res.text.includes(v), `no ${what} in a report`);
    },
  },
  'GET /api/v1/projects/:code/report.csv': {
    expect: 200,
    check: (res) => {
      assert.match(res.headers['content-type'], /^text\/csv/);
      assert.match(res.headers['content-disposition'], /^attachment; filename="fairvisit-demo-report\.csv"$/);
      assert.match(res.text, /^section,/);
    },
  },
  'GET /api/v1/projects/:code/impact': {
    expect: 200,
    check: (res) => {
      assert.match(res.headers['content-type'], /^text\/markdown/);
      assert.match(res.text, /^# /);
    },
  },

  // ---- self-service
  'POST /api/v1/me/otp': {
    run: async () => {
      const p = await visitorPerson();
      return { body: { slip: p.slip, phone: p.phone } };
    },
    expect: 200,
    check: (res) => {
      assert.equal(res.json.phone_needed, true);
      assert.match(secret(res.json.otp_id, 'otp id'), /^[0-9a-f]{32}$/);
    },
  },
  'POST /api/v1/me/session': {
    run: async () => {
      const p = await visitorPerson();
      const { otp_id, code } = await meOtp(p);
      return { body: { slip: p.slip, phone: p.phone, otp_id, otp_code: code } };
    },
    expect: 200,
    check: (res) => {
      secret(res.json.csrf, 'csrf token');
      const cookie = res.setCookie.find((c) => c.startsWith('fv_session='));
      assert.ok(cookie, 'a self-service login sets the session cookie');
      secret(sessionCookie(res.setCookie), 'session token');
      for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) assert.ok(cookie.split(/;\s*/).includes(attr), `cookie has ${attr}: ${cookie}`);
    },
  },
  'GET /api/v1/me': {
    expect: 200,
    check: (res) => {
      assert.equal(res.json.phone, S.visitor.person.phone, 'the visitor sees their own phone');
      assert.equal(res.json.project, DEMO);
    },
  },
  'POST /api/v1/me/withdraw': {
    // A visitor checked in by phone has no consent to withdraw (documented: 404).
    run: async () => ({ body: {} }),
    expect: '404 not_found',
  },
  'DELETE /api/v1/me': {
    run: async () => ({ session: await visitorSession() }),
    expect: 200,
    check: async (res, caller, req) => {
      assert.deepEqual(res.json, { deleted: true });
      expectStatus(await req.session.get('/api/v1/me'), 401, 'unauthenticated', 'after deleting the record');
    },
  },

  // ---- web pages
  ...Object.fromEntries(
    ['/', '/kiosk', '/reception', '/agent', '/reports', '/admin', '/me', '/poster'].map((p) => [
      `GET ${p}`,
      { expect: 200, check: (res) => assert.match(res.headers['content-type'], /^text\/html/) },
    ]),
  ),
  'GET /static/:file': {
    run: async () => ({ path: '/static/common.js' }),
    expect: 200,
    check: (res) => assert.match(res.headers['content-type'], /^text\/javascript/),
  },
};

function expectedFor(c, caller) {
  let e = c.expect;
  if (e !== null && typeof e === 'object' && !Array.isArray(e)) e = caller in e ? e[caller] : e.default;
  return (Array.isArray(e) ? e : [e]).map((x) => {
    const [status, code] = String(x).split(' ');
    return { status: Number(status), code: code || null };
  });
}

// ---- setup and teardown -------------------------------------------------------------------------

const watchdog = setTimeout(() => {
  console.error('api.test: watchdog: still running after 570 s; stopping the server');
  srv?.kill();
  process.exit(1);
}, 570000);
watchdog.unref();
process.on('exit', () => srv?.kill());

before(async () => {
  assert.ok(fs.existsSync(BIN), `FV_BIN (${BIN}) is not a file: build fairvisit first`);
  site = makeDemoSite(BIN);
  for (const l of Object.values(site.logins)) secret(l.password, 'password');
  srv = await new Server(BIN, site.site, { https: true, models: HAVE_MODELS ? MODELS : null }).start();
  const roles = Object.keys(LOGIN_OF);
  const sessions = await Promise.all([
    ...roles.map((r) => staffLogin(LOGIN_OF[r], r, ROLE_IP[r])),
    staffLogin('agent2', 'agent', '127.0.0.19'),
  ]);
  roles.forEach((r, i) => (S[r] = sessions[i]));
  agent2 = sessions[roles.length];
  S[ANON] = anonymous(ROLE_IP[ANON]);
  D = { spare: {}, users: {} };
  const n = await S.admin.get(`/api/v1/projects/${DEMO}/notices`);
  expectStatus(n, 200);
  D.notice = { version: n.json.version, hash: n.json.hash };
  D.testProject = `apitest-${RUN}`;
  expectStatus(
    await S.admin.post('/api/v1/projects', { code: D.testProject, name: 'API test', controller: 'Apitest Ltd', controller_contact: 'dpo@apitest.invalid' }),
    201,
  );
  const ch = await S.admin.post(`/api/v1/projects/${D.testProject}/channels`, { kind: 'online', name: 'Apitest Online', commission: 'none' });
  expectStatus(ch, 201);
  D.testChannel = ch.json.id;
  D.users.plain = await createUser('auditor');
  S.visitor = await visitorSession();
});

after(async () => {
  clearTimeout(watchdog);
  srv?.kill();
  if (site && !process.env.FV_KEEP) {
    fs.rmSync(site.root, { recursive: true, force: true });
  } else if (site) {
    fs.writeFileSync(path.join(site.root, 'serve.stdout'), srv?.stdout ?? '');
    fs.writeFileSync(path.join(site.root, 'serve.stderr'), srv?.stderr ?? '');
    console.log(`api.test: the site and the server's output are kept in ${site.root}`);
  }
});

// ---- the tests ----------------------------------------------------------------------------------

test('the route tables are read and every table is served', () => {
  assert.ok(ROUTES.routes.length >= 40, `only ${ROUTES.routes.length} routes read`);
  const served = serverTables(REPO);
  for (const t of ROUTES.tables) assert.ok(served.includes(t), `${t} is not in server.c's TABLES`);
  const keys = ROUTES.routes.map((r) => r.key);
  assert.equal(new Set(keys).size, keys.length, 'a method and pattern appear twice');
});

test('every endpoint has a test case, and every test case an endpoint', () => {
  const errors = [];
  for (const r of ROUTES.routes) if (!(r.key in CASES)) errors.push(`no test case for ${r.key} (${r.file})`);
  const keys = new Set(ROUTES.routes.map((r) => r.key));
  for (const k of Object.keys(CASES)) if (!keys.has(k)) errors.push(`a test case for ${k}, which no route table has`);
  assert.deepEqual(errors, []);
});

test('role matrix: allowed callers succeed, others get 403 (anonymous 401)', async (t) => {
  for (const route of ROUTES.routes) {
    const c = CASES[route.key];
    if (!c) continue;
    await t.test(route.key, async () => {
      const errors = [];
      for (const caller of CALLERS) {
        const allowed = route.anon || route.roles.has(caller);
        try {
          if (allowed) {
            const req = c.run ? await c.run(caller) : {};
            const sess = req.session || S[caller];
            const res = await sess.call(route.method, req.path || fill(route.pattern), {
              body: req.body,
              contentType: req.contentType,
            });
            const exp = expectedFor(c, caller);
            const ok = exp.some((e) => e.status === res.status && (e.code === null || res.json?.error?.code === e.code));
            if (!ok) {
              errors.push(`${caller}: expected ${exp.map((e) => `${e.status}${e.code ? ` ${e.code}` : ''}`).join(' or ')}, got ${describe(res)}`);
              continue;
            }
            if (c.check) await c.check(res, caller, req);
          } else {
            const res = await S[caller].call(route.method, fill(route.pattern), route.method === 'GET' ? {} : { body: {} });
            const want = caller === ANON ? [401, 'unauthenticated'] : [403, 'forbidden'];
            if (res.status !== want[0] || res.json?.error?.code !== want[1]) {
              errors.push(`${caller} (not allowed): expected ${want.join(' ')}, got ${describe(res)}`);
            } else if (caller !== ANON && !res.json.error.message.includes(caller)) {
              errors.push(`${caller}: the 403 message does not name the role: ${res.json.error.message}`);
            }
          }
        } catch (e) {
          errors.push(`${caller}: ${e.message}`);
        }
      }
      assert.deepEqual(errors, [], `${route.key} (allowed: ${[...route.roles].join(', ')})`);
    });
  }
});

test('state changes without the CSRF token (or with another session\'s) are 403 csrf', async () => {
  const prefer = ['admin', 'reception', 'kiosk', 'agent', 'channel_manager', 'auditor', 'visitor'];
  const errors = [];
  for (const route of ROUTES.routes) {
    if (route.method === 'GET') continue;
    const caller = route.anon ? 'admin' : prefer.find((r) => route.roles.has(r));
    const sess = S[caller];
    const other = caller === 'admin' ? S.reception : S.admin;
    for (const [how, csrf] of [
      ['no header', false],
      ['another session\'s token', other.csrf],
      ['a wrong token', crypto.randomBytes(32).toString('hex')],
      ['an empty token', ''],
    ]) {
      const res = await sess.call(route.method, fill(route.pattern), { body: {}, csrf });
      if (res.status !== 403 || res.json?.error?.code !== 'csrf') errors.push(`${route.key} as ${caller}, ${how}: ${describe(res)}`);
    }
  }
  assert.deepEqual(errors, []);
  // Still logged in: the refused requests changed nothing.
  expectStatus(await S.admin.get('/api/v1/session'), 200);
});

test('JSON bodies: syntax, types, unknown and missing fields, media type, size', async () => {
  const p = `/api/v1/projects/${DEMO}/registrations`;
  const a = S.agent;
  const good = () => ({ customer_name: newName(), phone: newPhone() });
  const cases = [
    ['malformed JSON', '{"customer_name": "x", "phone": ', 'application/json', 400, 'json_syntax'],
    ['not JSON at all', 'hello', 'application/json', 400, 'json_syntax'],
    ['empty body', '', 'application/json', 400, 'json_syntax'],
    ['wrong type', JSON.stringify({ ...good(), phone: 13900000000 }), 'application/json', 400, 'field_type'],
    ['wrong type (agent as string)', JSON.stringify({ ...good(), agent: '1' }), 'application/json', 400, 'field_type'],
    ['unknown field', JSON.stringify({ ...good(), role: 'admin' }), 'application/json', 400, 'field_unknown'],
    ['missing field', JSON.stringify({ phone: newPhone() }), 'application/json', 400, 'field_missing'],
    ['duplicate key', '{"customer_name": "a", "customer_name": "b", "phone": "13900000000"}', 'application/json', 400, 'json_duplicate_key'],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"customer_name": "'), Buffer.from([0xc3, 0x28]), Buffer.from('", "phone": "13900000000"}')]), 'application/json', 400, 'json_invalid_utf8'],
    ['an array, not an object', '[]', 'application/json', 400, null],
    ['too deep', '{"customer_name": ' + '['.repeat(40) + ']'.repeat(40) + ', "phone": "1"}', 'application/json', 413, 'json_too_deep'],
    ['text/plain', JSON.stringify(good()), 'text/plain', 415, 'unsupported_media_type'],
    ['form encoded', 'customer_name=x&phone=13900000000', 'application/x-www-form-urlencoded', 415, 'unsupported_media_type'],
    ['no Content-Type', JSON.stringify(good()), null, 415, 'unsupported_media_type'],
    ['70 KiB body', JSON.stringify({ ...good(), customer_name: 'x'.repeat(70 * 1024) }), 'application/json', 413, 'body_too_large'],
  ];
  const errors = [];
  for (const [what, body, ct, status, code] of cases) {
    const headers = {};
    if (ct) headers['Content-Type'] = ct;
    const res = await a.call('POST', p, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), headers });
    if (res.status !== status || (code && res.json?.error?.code !== code)) errors.push(`${what}: expected ${status} ${code}, got ${describe(res)}`);
    else if (res.json?.error?.message === undefined) errors.push(`${what}: the error has no message`);
  }
  // A body over 64 KiB is refused before authentication and before the route's handler.
  const big = await anonymous().call('POST', '/api/v1/session', { body: Buffer.alloc(70 * 1024, 0x20), headers: { 'Content-Type': 'application/json' } });
  if (big.status !== 413 || big.json?.error?.code !== 'body_too_large') errors.push(`70 KiB login: ${describe(big)}`);
  // The notice route takes up to 200 KiB, each text up to 64 KiB.
  const n = `/api/v1/projects/${D.testProject}/notices`;
  const longText = await S.admin.post(n, { text_zh: 'x'.repeat(70 * 1024), text_en: 'y' });
  if (longText.status !== 413 || longText.json?.error?.code !== 'json_too_large') errors.push(`a 70 KiB notice text: ${describe(longText)}`);
  const huge = await S.admin.post(n, { text_zh: 'x'.repeat(60 * 1024), text_en: 'y'.repeat(60 * 1024), pad: 'z'.repeat(90 * 1024) });
  if (huge.status !== 413 || huge.json?.error?.code !== 'body_too_large') errors.push(`a 210 KiB notice body: ${describe(huge)}`);
  const ok = await S.admin.post(n, { text_zh: '告'.repeat(20000), text_en: 'y'.repeat(60 * 1024) });
  if (ok.status !== 201) errors.push(`a 120 KiB notice: ${describe(ok)}`);
  assert.deepEqual(errors, []);
});

test('uploads: camera frames over 8 MiB, wrong media types, undecodable images', async (t) => {
  const route = ROUTES.routes.find((r) => r.key === 'POST /api/v1/liveness/:id/frames');
  if (!route) {
    t.skip('no frames endpoint');
    return;
  }
  const id = await liveness(S.kiosk);
  const p = `/api/v1/liveness/${id}/frames`;
  const errors = [];
  const over = await S.kiosk.post(p, Buffer.alloc(8 * 1024 * 1024 + 4096, 0x41), { contentType: 'image/jpeg' });
  if (over.status !== 413 || over.json?.error?.code !== 'body_too_large') errors.push(`8 MiB + 4 KiB: ${describe(over)}`);
  const json = await S.kiosk.post(p, { frame: 'x' });
  if (json.status !== 415) errors.push(`a JSON frame: ${describe(json)}`);
  const garbage = await S.kiosk.post(p, crypto.randomBytes(5000), { contentType: 'image/png' });
  if (garbage.status !== 400 || garbage.json?.error?.code !== 'bad_image') errors.push(`random bytes: ${describe(garbage)}`);
  const empty = await S.kiosk.post(p, Buffer.alloc(0), { contentType: 'image/jpeg' });
  if (empty.status !== 400 || empty.json?.error?.code !== 'bad_image') errors.push(`an empty frame: ${describe(empty)}`);
  // A PNG whose header claims 30000 x 30000 pixels (a decompression bomb): refused before decoding.
  const bomb = png(30000, 30000, Buffer.alloc(10));
  const b = await S.kiosk.post(p, bomb, { contentType: 'image/png' });
  if (!((b.status === 413 && b.json?.error?.code === 'body_too_large') || (b.status === 400 && b.json?.error?.code === 'bad_image'))) {
    errors.push(`a 900-megapixel PNG header: ${describe(b)}`);
  }
  const truncated = png(64, 48).subarray(0, 60);
  const tr = await S.kiosk.post(p, truncated, { contentType: 'image/png' });
  if (tr.status !== 400) errors.push(`a truncated PNG: ${describe(tr)}`);
  // Another login may not feed this check.
  const rec = await S.reception.post(p, png(64, 48), { contentType: 'image/png' });
  if (rec.status !== 409 || rec.json?.error?.code !== 'refused') errors.push(`another login's frame: ${describe(rec)}`);
  assert.deepEqual(errors, []);
});

test('routing: unknown routes 404, wrong methods 405, bad ids 400', async () => {
  const a = S.admin;
  const cases = [
    ['GET', '/api/v1/nope', 404, 'not_found'],
    ['GET', '/api/v1/', 404, 'not_found'],
    ['GET', '/api/v2/projects', 404, 'not_found'],
    ['POST', '/api/v1/projects/demo/nope', 404, 'not_found'],
    ['GET', '/static/../ledger.key', 404, 'not_found'],
    ['GET', '/static/..%2fledger.key', 404, 'not_found'],
    ['GET', '/static/.hidden', 404, 'not_found'],
    ['GET', '/static/nope.js', 404, 'not_found'],
    ['GET', '/api/v1/projects/nope', 404, 'project_not_found'],
    ['GET', '/api/v1/projects/nope/visits', 404, 'project_not_found'],
    ['PUT', '/api/v1/session', 405, 'method_not_allowed'],
    ['PATCH', '/api/v1/session', 405, 'method_not_allowed'],
    ['DELETE', '/api/v1/projects', 405, 'method_not_allowed'],
    ['POST', '/api/v1/audit/verify', 405, 'method_not_allowed'],
    ['POST', '/kiosk', 405, 'method_not_allowed'],
    ['POST', '/api/v1/visits/abc/escort', 400, 'bad_id'],
    ['POST', '/api/v1/visits/0/escort', 400, 'bad_id'],
    ['POST', '/api/v1/visits/-1/escort', 400, 'bad_id'],
    ['POST', '/api/v1/visits/+1/escort', 400, 'bad_id'],
    ['POST', '/api/v1/visits/99999999999999999999999/escort', 400, 'bad_id'],
    ['POST', '/api/v1/visits/999999/escort', 404, 'not_found'],
    ['PUT', '/api/v1/users/1x', 400, 'bad_id'],
    ['DELETE', '/api/v1/tokens/999999', 404, 'not_found'],
    ['GET', '/api/v1/projects/demo/visits?day=2026-13-45', 400, 'invalid_request'],
    ['GET', '/api/v1/projects/demo/conflicts?status=bogus', 400, 'invalid_request'],
    ['GET', '/api/v1/projects/demo/report?from=yesterday', 400, 'invalid_request'],
  ];
  const errors = [];
  for (const [method, p, status, code] of cases) {
    const body = method === 'GET' ? undefined : method === 'PUT' && p.startsWith('/api/v1/users') ? { disabled: false } : { agent: 1 };
    const res = await a.call(method, p, { body });
    if (res.status !== status || res.json?.error?.code !== code) errors.push(`${method} ${p}: expected ${status} ${code}, got ${describe(res)}`);
  }
  assert.deepEqual(errors, []);
});

test('login rate limit: 429 with Retry-After after repeated wrong passwords', async () => {
  const user = await createUser('auditor');
  const ip = '127.0.0.60';
  // Six at once: the limit is taken before the password is checked, so five are checked (401)
  // and the sixth is refused at once; as soon as it is, the right password is tried too (from
  // another address), before the bucket refills (one try every 12 s).
  const wrongTry = () =>
    request(srv.base, {
      method: 'POST',
      path: '/api/v1/session',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login: user.login, password: 'wrong-password-1' }),
      ip,
    });
  let rightRes = null;
  let rightDone = null;
  const tries = await Promise.all(
    Array.from({ length: 6 }, () =>
      wrongTry().then((r) => {
        if (r.status === 429 && rightDone === null) {
          rightDone = Session.login(srv.base, user.login, user.password, { ip: '127.0.0.61' }).then((x) => (rightRes = x.res));
        }
        return r;
      }),
    ),
  );
  const statuses = tries.map((r) => r.status).sort();
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429], tries.map(describe).join('\n'));
  for (const r of tries.filter((x) => x.status === 401)) assert.equal(r.json.error.code, 'wrong_login');
  const limited = tries.find((r) => r.status === 429);
  assert.equal(limited.json.error.code, 'rate_limited');
  assert.equal(limited.headers['retry-after'], '60');
  await rightDone;
  expectStatus(rightRes, 429, 'rate_limited', 'the right password while limited');
  assert.equal(rightRes.headers['retry-after'], '60');
  // Per client address: 20 at once. Logins in a wrong format are answered without hashing.
  const burst = await Promise.all(
    Array.from({ length: 24 }, (_, i) =>
      request(srv.base, {
        method: 'POST',
        path: '/api/v1/session',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ login: `No Such User ${i}`, password: 'x' }),
        ip: '127.0.0.62',
      }),
    ),
  );
  const n401 = burst.filter((r) => r.status === 401).length;
  const n429 = burst.filter((r) => r.status === 429).length;
  assert.equal(n401 + n429, 24, burst.map(describe).join('\n'));
  // 20 at once, then one more every 3 s: a slow machine may refill one or two during the burst.
  assert.ok(n401 >= 20 && n401 <= 22 && n429 >= 2, `per address: ${n401} x 401, ${n429} x 429`);
  assert.ok(burst.filter((r) => r.status === 429).every((r) => r.headers['retry-after'] === '60'));
});

test('one-time code rate limit per phone: 429 with Retry-After', async () => {
  const phone = newPhone();
  const ip = '127.0.0.63';
  const got = [];
  for (let i = 0; i < 4; i++) got.push(await S.kiosk.post(`/api/v1/projects/${DEMO}/otp`, { phone }, { ip }));
  assert.deepEqual(got.map((r) => r.status), [200, 200, 200, 429], got.map(describe).join('\n'));
  assert.equal(got[3].json.error.code, 'rate_limited');
  assert.equal(got[3].headers['retry-after'], '60');
  // At the kiosk a phone needs its one-time code: a wrong code is refused and does not check in.
  const phone2 = newPhone();
  const { otp_id, code } = await kioskOtp(phone2, S.kiosk, '127.0.0.64');
  const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
  const r = await S.kiosk.post(`/api/v1/projects/${DEMO}/checkins`, { phone: phone2, otp_id, otp_code: wrong });
  expectStatus(r, 409, 'refused', 'a wrong one-time code');
  expectStatus(await S.kiosk.post(`/api/v1/projects/${DEMO}/checkins`, { phone: phone2 }), 400, 'field_missing', 'the kiosk without a code');
  const ok = await S.kiosk.post(`/api/v1/projects/${DEMO}/checkins`, { phone: phone2, otp_id, otp_code: code });
  expectStatus(ok, 200, null, 'the right code after a wrong one');
  secret(ok.json.slip, 'slip code');
  expectStatus(await S.kiosk.post(`/api/v1/projects/${DEMO}/checkins`, { phone: phone2, otp_id, otp_code: code }), 409, 'refused', 'a used code');
});

test('scoped roles are refused other scopes (agents, channel managers, the kiosk, the last admin)', async () => {
  const reg = `/api/v1/projects/${DEMO}/registrations`;
  // An agent registers only in their own name; a channel manager only for their channel's agents.
  expectStatus(await S.agent.post(reg, { customer_name: newName(), phone: newPhone(), agent: AGENT2 }), 409, 'refused', 'an agent naming another agent');
  expectStatus(await S.channel_manager.post(reg, { customer_name: newName(), phone: newPhone(), agent: AGENT2 }), 409, 'refused', 'a manager naming another channel\'s agent');
  expectStatus(await S.channel_manager.post(reg, { customer_name: newName(), phone: newPhone() }), 400, 'field_missing', 'a manager without an agent');
  expectStatus(await S.admin.post(reg, { customer_name: newName(), phone: newPhone(), agent: 999999 }), 404, 'not_found', 'no such agent');
  // A conflict of channel 3 (agent2 claims a phone agent1 holds): channel 2 may not appeal it.
  const phone = newPhone();
  assert.equal((await register(S.agent, phone)).status, 'accepted');
  const claim = await register(agent2, phone);
  assert.equal(claim.status, 'refused');
  assert.ok(claim.conflict > 0);
  const appeal = `/api/v1/conflicts/${claim.conflict}/appeal`;
  expectStatus(await S.agent.post(appeal, { reason: 'not ours' }), 409, 'refused', 'an agent appealing another channel\'s conflict');
  expectStatus(await S.channel_manager.post(appeal, { reason: 'not ours' }), 409, 'refused', 'a manager appealing another channel\'s conflict');
  expectStatus(await agent2.post(appeal, { reason: 'ours' }), 200, null, 'the claiming channel appeals');
  expectStatus(await agent2.post(appeal, { reason: 'again' }), 409, 'refused', 'a second appeal');
  // The agents of channel 3 see that conflict, those of channel 2 do not.
  const c2 = await S.agent.get(`/api/v1/projects/${DEMO}/conflicts`);
  assert.ok(!c2.json.some((c) => c.id === claim.conflict), 'agent1 does not see channel 3\'s conflict');
  const c3 = await agent2.get(`/api/v1/projects/${DEMO}/conflicts`);
  assert.ok(c3.json.some((c) => c.id === claim.conflict), 'agent2 sees their own conflict');
  // An escort QR scanned by an agent of another channel; reception naming such an agent.
  const pv = await pendingVisit(); // registered by agent1 (channel 2)
  expectStatus(await agent2.post('/api/v1/escort/scan', { qr: pv.qr }), 409, 'refused', 'another channel\'s agent scanning');
  expectStatus(await S.reception.post(`/api/v1/visits/${pv.visit}/escort`, { agent: AGENT2 }), 409, 'refused', 'reception naming another channel\'s agent');
  expectStatus(await S.agent.post('/api/v1/escort/scan', { qr: 'f'.repeat(32) }), 404, 'not_found', 'an unknown QR');
  expectStatus(await S.agent.post('/api/v1/escort/scan', { qr: pv.qr }), 200, null, 'the registering agent scanning');
  expectStatus(await S.agent.post('/api/v1/escort/scan', { qr: pv.qr }), 409, 'refused', 'scanning twice');
  // Agents and channel managers see their own project only.
  for (const who of [S.agent, S.channel_manager]) {
    expectStatus(await who.get(`/api/v1/projects/${D.testProject}`), 404, 'project_not_found', `${who.role} reading another project`);
  }
  // The kiosk may not confirm an escort (only reception sees who came along).
  const kp = newPhone();
  const { otp_id, code } = await kioskOtp(kp, S.kiosk, '127.0.0.65');
  expectStatus(
    await S.kiosk.post(`/api/v1/projects/${DEMO}/checkins`, { phone: kp, otp_id, otp_code: code, escort_agent: AGENT1 }),
    409,
    'refused',
    'the kiosk naming an escort',
  );
  // A face-free project refuses consent (no face processing at all).
  const ff = await S.reception.post(`/api/v1/projects/${D.testProject}/consents`, { notice_version: 1, notice_hash: 'x', age: 'adult' });
  assert.ok(ff.status === 409 || ff.status === 404, `consent in a face-free project: ${describe(ff)}`);
  // The last enabled admin cannot be disabled.
  const users = (await S.admin.get('/api/v1/users')).json;
  const admins = users.filter((u) => u.role === 'admin' && !u.disabled);
  if (admins.length === 1) {
    expectStatus(await S.admin.put(`/api/v1/users/${admins[0].id}`, { disabled: true }), 409, 'refused', 'disabling the last admin');
    expectStatus(await S.admin.get('/api/v1/session'), 200, null, 'the admin is still logged in');
  }
});

test('self-service rate limits: per slip code (Retry-After 360), unknown slips included', async () => {
  const p = await visitorPerson();
  const ip = '127.0.0.66';
  const got = [];
  for (let i = 0; i < 11; i++) got.push(await anonymous(ip).post('/api/v1/me/otp', { slip: p.slip.toLowerCase() }));
  assert.deepEqual(got.map((r) => r.status), [...Array(10).fill(200), 429], got.map(describe).join('\n'));
  assert.deepEqual(got[0].json, { phone_needed: true, otp_id: null });
  assert.equal(got[10].json.error.code, 'rate_limited');
  assert.equal(got[10].headers['retry-after'], '360');
  const unknown = [];
  for (let i = 0; i < 11; i++) unknown.push(await anonymous('127.0.0.67').post('/api/v1/me/session', { slip: 'ZZZZZZZZZZ' }));
  assert.deepEqual(unknown.map((r) => r.status), [...Array(10).fill(404), 429], unknown.map(describe).join('\n'));
  expectStatus(await anonymous().post('/api/v1/me/otp', { slip: 'SHORT' }), 400, 'invalid_request', 'a slip code of the wrong length');
  // A wrong code, another phone, no code: one answer (401 wrong_login) or 400 for a missing phone.
  const q = await visitorPerson();
  const { otp_id, code } = await meOtp(q);
  const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
  const ip2 = '127.0.0.68';
  expectStatus(await anonymous(ip2).post('/api/v1/me/session', { slip: q.slip, phone: q.phone, otp_id, otp_code: wrong }), 401, 'wrong_login', 'a wrong code');
  expectStatus(await anonymous(ip2).post('/api/v1/me/session', { slip: q.slip, phone: newPhone(), otp_id, otp_code: code }), 401, 'wrong_login', 'another phone');
  expectStatus(await anonymous(ip2).post('/api/v1/me/session', { slip: q.slip }), 400, 'invalid_request', 'no phone');
  const ok = await anonymous(ip2).post('/api/v1/me/session', { slip: q.slip, phone: q.phone, otp_id, otp_code: code });
  expectStatus(ok, 200, null, 'the right code after wrong ones');
  secret(ok.json.csrf, 'csrf token');
  secret(sessionCookie(ok.setCookie), 'session token');
  expectStatus(await anonymous(ip2).post('/api/v1/me/session', { slip: q.slip, phone: q.phone, otp_id, otp_code: code }), 401, 'wrong_login', 'a used code');
});

test('API tokens: Bearer works without CSRF, within its role; revoked or disabled is 401', async () => {
  const users = (await S.admin.get('/api/v1/users')).json;
  const receptionId = users.find((u) => u.login === 'reception').id;
  const token = await createToken(receptionId, 'integration');
  const bearer = new Session(srv.base, { token, ip: helperIp() });
  const who = await bearer.get('/api/v1/session');
  expectStatus(who, 200);
  assert.equal(who.json.user.role, 'reception');
  assert.equal(who.json.csrf, '', 'a token has no CSRF token');
  assert.equal(who.setCookie.length, 0, 'a token gets no cookie');
  const c = await bearer.post(`/api/v1/projects/${DEMO}/checkins`, { phone: newPhone() });
  expectStatus(c, 200, null, 'a state change by token, without X-CSRF-Token');
  secret(c.json.slip, 'slip code');
  expectStatus(await bearer.get('/api/v1/users'), 403, 'forbidden', 'a reception token on an admin endpoint');
  expectStatus(await bearer.post('/api/v1/projects', { code: 'x' }), 403, 'forbidden');
  // Revoked: 401 at once.
  const tokenId = await tokenIdOf(receptionId);
  expectStatus(await S.admin.del(`/api/v1/tokens/${tokenId}`), 200);
  expectStatus(await bearer.get('/api/v1/session'), 401, 'unauthenticated', 'a revoked token');
  expectStatus(await bearer.post(`/api/v1/projects/${DEMO}/checkins`, { phone: newPhone() }), 401, 'unauthenticated');
  expectStatus(await S.admin.del(`/api/v1/tokens/${tokenId}`), 200, null, 'revoking twice');
  // Tokens that never were.
  for (const bogus of [`fvt_${'0'.repeat(60)}`, 'fvt_', '', 'x'.repeat(5000), token.slice(0, -1)]) {
    const s = new Session(srv.base, { token: bogus, ip: helperIp() });
    expectStatus(await s.get('/api/v1/session'), 401, 'unauthenticated', `token '${bogus.slice(0, 12)}'`);
  }
  // A disabled user's token stops working, and works again when the user is enabled.
  const u = await createUser('auditor');
  const t2 = new Session(srv.base, { token: await createToken(u.id), ip: helperIp() });
  expectStatus(await t2.get('/api/v1/audit/verify'), 200);
  expectStatus(await S.admin.put(`/api/v1/users/${u.id}`, { disabled: true }), 200);
  expectStatus(await t2.get('/api/v1/audit/verify'), 401, 'unauthenticated', 'a disabled user\'s token');
  expectStatus(await S.admin.post(`/api/v1/users/${u.id}/tokens`, { name: 'x' }), 409, 'refused', 'a token for a disabled user');
  expectStatus(await S.admin.put(`/api/v1/users/${u.id}`, { disabled: false }), 200);
  expectStatus(await t2.get('/api/v1/audit/verify'), 200, null, 'enabled again');
});

test('a password change or disabling drops the user\'s sessions', async () => {
  const u = await createUser('auditor');
  const s1 = await staffLoginAs(u, '127.0.0.70');
  expectStatus(await s1.get('/api/v1/session'), 200);
  const pw = newPassword();
  expectStatus(await S.admin.put(`/api/v1/users/${u.id}`, { password: pw }), 200);
  expectStatus(await s1.get('/api/v1/session'), 401, 'unauthenticated', 'after a password change');
  const old = await Session.login(srv.base, u.login, u.password, { ip: '127.0.0.70' });
  expectStatus(old.res, 401, 'wrong_login', 'the old password');
  u.password = pw;
  const s2 = await staffLoginAs(u, '127.0.0.70');
  expectStatus(await S.admin.put(`/api/v1/users/${u.id}`, { disabled: true }), 200);
  expectStatus(await s2.get('/api/v1/session'), 401, 'unauthenticated', 'after disabling');
  const dis = await Session.login(srv.base, u.login, u.password, { ip: '127.0.0.70' });
  expectStatus(dis.res, 401, 'wrong_login', 'a disabled user');
});

async function staffLoginAs(u, ip) {
  const { session, res } = await Session.login(srv.base, u.login, u.password, { ip });
  assert.ok(session, describe(res));
  secret(session.cookie, 'session token');
  secret(session.csrf, 'csrf token');
  return session;
}

test('the session cookie is HttpOnly, Secure, SameSite=Strict; bad cookies are anonymous', async () => {
  const { session, res } = await Session.login(srv.base, 'auditor', site.logins.auditor.password, { ip: ROLE_IP.auditor });
  assert.ok(session, describe(res));
  secret(session.cookie, 'session token');
  secret(session.csrf, 'csrf token');
  const cookie = res.setCookie.find((c) => c.startsWith('fv_session='));
  const attrs = cookie.split(/;\s*/);
  for (const a of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) assert.ok(attrs.includes(a), `${a} in ${cookie}`);
  assert.match(session.cookie, /^[0-9a-f]{64}$/);
  assert.match(session.csrf, /^[0-9a-f]{64}$/);
  assert.notEqual(session.cookie, S.auditor.cookie);
  for (const bad of ['0'.repeat(64), session.cookie.slice(1), `${session.cookie}0`, 'x', '']) {
    const r = await request(srv.base, { path: '/api/v1/session', headers: { Cookie: `fv_session=${bad}` }, ip: helperIp() });
    expectStatus(r, 401, 'unauthenticated', `cookie '${bad.slice(0, 8)}'`);
  }
  // Logged out: the old cookie is dead.
  expectStatus(await session.del('/api/v1/session'), 200);
  expectStatus(await session.get('/api/v1/session'), 401, 'unauthenticated');
});

test('security headers on API answers, errors and pages', async () => {
  const checks = [
    ['/api/v1/session', S.admin, true],
    ['/api/v1/session', anonymous(), true],
    ['/api/v1/projects', S.reception, true],
    ['/api/v1/nope', anonymous(), true],
    ['/api/v1/projects/demo/report.csv', S.auditor, true],
    ['/', anonymous(), false],
    ['/kiosk', anonymous(), false],
    ['/agent', anonymous(), false],
    ['/admin', anonymous(), false],
    ['/static/common.js', anonymous(), false],
  ];
  const errors = [];
  for (const [p, sess, api] of checks) {
    const r = await sess.get(p);
    const h = r.headers;
    const need = {
      'content-security-policy': /default-src 'self'.*frame-ancestors 'none'/,
      'x-content-type-options': /^nosniff$/,
      'x-frame-options': /^DENY$/,
      'referrer-policy': /^no-referrer$/,
      'permissions-policy': /^\/(kiosk|agent)$/.test(p) ? /^camera=\(self\)$/ : /^camera=\(\)$/,
    };
    if (api) need['cache-control'] = /^no-store$/;
    for (const [name, re] of Object.entries(need)) if (!re.test(h[name] || '')) errors.push(`${p}: ${name} is '${h[name]}'`);
    if (!/script-src 'self'/.test(h['content-security-policy'] || '') || /unsafe-inline|unsafe-eval/.test(h['content-security-policy'] || '')) {
      errors.push(`${p}: the CSP allows inline or eval'd scripts: ${h['content-security-policy']}`);
    }
    if ('strict-transport-security' in h) errors.push(`${p}: HSTS on plain HTTP`);
    if (/^\/(static\/|$|kiosk)/.test(p) && !h.etag) errors.push(`${p}: no ETag`);
  }
  // A page revalidated with its ETag: 304 without a body.
  const page = await anonymous().get('/kiosk');
  const again = await anonymous().get('/kiosk', { headers: { 'If-None-Match': page.headers.etag } });
  if (again.status !== 304 || again.body.length !== 0) errors.push(`If-None-Match: ${again.status}, ${again.body.length} bytes`);
  assert.deepEqual(errors, []);
});

test('HTTPS with the site\'s certificate', async () => {
  const ca = fs.readFileSync(path.join(site.site, 'tls', 'cert.pem'));
  const r = await request(srv.tlsBase, { path: '/api/v1/session', ca, ip: helperIp() });
  expectStatus(r, 401, 'unauthenticated', 'over HTTPS, anonymous');
  assert.match(r.headers['strict-transport-security'] || '', /max-age=\d+/);
  const tls = new Session(srv.tlsBase, { cookie: S.admin.cookie, csrf: S.admin.csrf, ip: helperIp(), ca });
  const who = await tls.get('/api/v1/session');
  expectStatus(who, 200, null, 'the session cookie over HTTPS');
  assert.equal(who.json.user.role, 'admin');
  const c = await tls.post(`/api/v1/projects/${DEMO}/checkins`, { phone: newPhone() });
  expectStatus(c, 200, null, 'a check-in over HTTPS');
  secret(c.json.slip, 'slip code');
  const page = await request(srv.tlsBase, { path: '/kiosk', ca, ip: helperIp() });
  expectStatus(page, 200);
  // Without trusting the certificate the connection fails (self-signed).
  await assert.rejects(request(srv.tlsBase, { path: '/api/v1/session', ip: helperIp() }), /self[- ]signed|certificate/i);
  // Plain HTTP on the HTTPS port gets no answer.
  const plain = await rawExchange(srv.tlsPort, 'GET /api/v1/session HTTP/1.1\r\nHost: x\r\n\r\n', { ip: helperIp() });
  assert.ok(!plain.includes('"user"'), 'no API answer in plain text on the HTTPS port');
});

test('plain HTTP on a non-loopback address is refused at start', () => {
  for (const addr of ['0.0.0.0', '192.0.2.1', '10.1.2.3']) {
    const r = runRefused(BIN, ['serve', '--site', site.site, '--listen', `${addr}:${20000 + crypto.randomInt(40000)}`]);
    assert.equal(r.code, 1, `--listen ${addr}: exit ${r.code} (${r.signal}) ${r.stderr}`);
    assert.match(r.stderr, /loopback/, `--listen ${addr}: the message says why: ${r.stderr}`);
    assert.ok(!/running/.test(r.stdout), `--listen ${addr} did not run`);
  }
});

test('concurrency: 50 parallel check-ins of 25 phones give exactly 25 first visits', async () => {
  const phones = Array.from({ length: 25 }, () => newPhone());
  const ips = ['127.0.0.30', '127.0.0.31']; // 25 connections each: under the 32 per address
  const all = [...phones, ...phones].map((phone, i) => S.reception.post(`/api/v1/projects/${DEMO}/checkins`, { phone }, { ip: ips[i % 2] }));
  const res = await Promise.all(all);
  const bad = res.filter((r) => r.status !== 200);
  assert.deepEqual(bad.map(describe), [], 'every parallel check-in answers 200');
  for (const r of res) {
    secret(r.json.slip, 'slip code');
    secret(r.json.qr, 'escort QR token');
  }
  const firsts = res.filter((r) => r.json.kind === 'first');
  const returns = res.filter((r) => r.json.kind === 'return');
  assert.equal(firsts.length, 25, `first visits: ${firsts.length}`);
  assert.equal(returns.length, 25, `return visits: ${returns.length}`);
  // One person per phone: each phone's two answers name the same person.
  const byPerson = new Map();
  res.forEach((r, i) => {
    const phone = [...phones, ...phones][i];
    if (byPerson.has(phone)) assert.equal(byPerson.get(phone), r.json.person, 'one person per phone');
    else byPerson.set(phone, r.json.person);
  });
  assert.equal(new Set(byPerson.values()).size, 25);
  // The day's visit list has them all, masked.
  const v = await S.reception.get(`/api/v1/projects/${DEMO}/visits`);
  expectStatus(v, 200);
  const mine = new Set(phones.map(mask));
  const listed = v.json.filter((x) => mine.has(x.phone_mask));
  assert.equal(listed.filter((x) => x.kind === 'first').length, 25);
  assert.equal(listed.filter((x) => x.kind === 'return').length, 25);
});

test('concurrency: one phone registered at once by agents of two channels: exactly one accepted', async () => {
  for (let round = 0; round < 5; round++) {
    const phone = newPhone();
    const [a, b] = await Promise.all([
      S.agent.post(`/api/v1/projects/${DEMO}/registrations`, { customer_name: newName(), phone }),
      agent2.post(`/api/v1/projects/${DEMO}/registrations`, { customer_name: newName(), phone }),
    ]);
    expectStatus(a, 200);
    expectStatus(b, 200);
    const statuses = [a.json.status, b.json.status].sort();
    assert.deepEqual(statuses, ['accepted', 'refused'], `round ${round}: ${describe(a)} / ${describe(b)}`);
    const refused = a.json.status === 'refused' ? a.json : b.json;
    assert.equal(refused.reason, 'registered_by_other_channel');
  }
  // And the same from one channel twice at once: one accepted, one already_registered.
  const phone = newPhone();
  const [x, y] = await Promise.all([
    S.agent.post(`/api/v1/projects/${DEMO}/registrations`, { customer_name: newName(), phone }),
    S.channel_manager.post(`/api/v1/projects/${DEMO}/registrations`, { customer_name: newName(), phone, agent: AGENT1 }),
  ]);
  assert.deepEqual([x.json.status, y.json.status].sort(), ['accepted', 'refused'], `${describe(x)} / ${describe(y)}`);
});

test('concurrent failures each get their own error message', async () => {
  // Ledger refusals of two kinds at once, with successful ledger reads in between.
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) => {
      const ip = ['127.0.0.40', '127.0.0.41', '127.0.0.42'][i % 3];
      if (i % 3 === 0) return S.admin.post('/api/v1/visits/999999/escort', { agent: AGENT1 }, { ip }).then((r) => ['escort', r]);
      if (i % 3 === 1) return S.admin.post('/api/v1/users', { login: 'admin', password: 'long-enough-pw', role: 'admin' }, { ip }).then((r) => ['user', r]);
      return S.reception.get(`/api/v1/projects/${DEMO}/visits`, { ip }).then((r) => ['read', r]);
    }),
  );
  const empty = results.filter(([k, r]) => k !== 'read' && !(r.json?.error?.message || '').trim());
  assert.deepEqual(empty.map(([k, r]) => `${k}: ${describe(r)}`), [], 'an error without a message');
  for (const [k, r] of results) {
    if (k === 'escort') expectStatus(r, 404, 'not_found');
    if (k === 'user') expectStatus(r, 409, 'refused');
    if (k === 'read') expectStatus(r, 200);
  }
});

test(
  'concurrent failures never get another request\'s message (messages are per thread)',
  async () => {
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 2
          ? S.admin.post('/api/v1/visits/999999/escort', { agent: AGENT1 }, { ip: '127.0.0.43' }).then((r) => ['escort', r])
          : S.admin.post('/api/v1/users', { login: 'admin', password: 'long-enough-pw', role: 'admin' }, { ip: '127.0.0.44' }).then((r) => ['user', r]),
      ),
    );
    const wrong = results.filter(([k, r]) => (k === 'escort' && /login/.test(r.json.error.message)) || (k === 'user' && /visit/.test(r.json.error.message)));
    assert.deepEqual(wrong.map(([k, r]) => `${k}: ${describe(r)}`), []);
  },
);

test('hostile bytes on the socket and in headers: the server keeps answering', async () => {
  const port = srv.port;
  const ip = helperIp();
  const garbage = [
    crypto.randomBytes(4096),
    Buffer.from('\x00\x01\x02\x03 GET / HTTP/1.1\r\n\r\n'),
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'),
    Buffer.from('POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}'),
    Buffer.from('POST /api/v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'),
    Buffer.from('POST /api/v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nFFFFFFFFFFFFFFFF\r\nabc\r\n'),
    Buffer.from('POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n{}'),
    Buffer.from('GET /api/v1/session HTTP/9.9\r\n\r\n'),
    Buffer.from('GET\r\n\r\n'),
    Buffer.from(`GET /${'a'.repeat(70000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
    Buffer.from(`GET /api/v1/session HTTP/1.1\r\nHost: x\r\nCookie: fv_session=${'f'.repeat(60000)}\r\n\r\n`),
    Buffer.from(`GET /api/v1/session HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(5000)}\r\n`),
    Buffer.from('GET /api/v1/session HTTP/1.1\r\nHost: x\r\nCookie: fv_session=%00%00\r\nAuthorization: Bearer \x00\x01\r\n\r\n'),
    Buffer.from('GET /api/v1/projects/%00/visits HTTP/1.1\r\nHost: x\r\n\r\n'),
    Buffer.from('GET /api/v1/projects/demo/visits?day=%ff%fe&day=x&' + 'a=b&'.repeat(2000) + ' HTTP/1.1\r\nHost: x\r\n\r\n'),
    Buffer.from('POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"login": "a"'), // short body, then close
  ];
  for (const g of garbage) await rawExchange(port, g, { ip, waitMs: 500, endAfterWrite: true });
  // Methods the client makes up (escape sequences, a phone number) must not reach the log.
  for (const m of ['G\x1b[31mT', newPhone(), 'FOO\x7f', 'get']) {
    const r = await rawExchange(port, `${m} /api/v1/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { ip, waitMs: 2000 });
    assert.match(r, /^HTTP\/1\.1 (405|400|501)/, `method ${JSON.stringify(m)}: ${r.slice(0, 40)}`);
  }
  // Half-sent requests left open while the test goes on.
  const open = [];
  const net = await import('node:net');
  for (let i = 0; i < 5; i++) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: ip });
    s.on('error', () => {});
    s.write('POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n');
    open.push(s);
  }
  // At most 32 connections per client address: the 33rd is closed, others still served.
  const capIp = '127.0.0.80';
  const held = [];
  const closed = [];
  await Promise.all(
    Array.from({ length: 33 }, (_, i) => new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress: capIp }, resolve);
      s.on('error', () => {});
      s.on('close', () => closed.push(i));
      held.push(s);
    })),
  );
  await new Promise((r) => setTimeout(r, 500));
  const capRes = await request(srv.base, { path: '/api/v1/session', headers: { Cookie: `fv_session=${S.admin.cookie}` }, ip: capIp }).catch((e) => e);
  for (const s of held) s.destroy();
  assert.ok(closed.length >= 1, 'the connections over the cap are closed');
  assert.ok(capRes instanceof Error || capRes.status !== 200, 'no 34th connection while 32 are held');
  expectStatus(await S.admin.get('/api/v1/session', { ip: helperIp() }), 200, null, 'another address while one is at its cap');
  // JSON that is hostile but well-formed.
  const a = S.agent;
  const weird = [
    { customer_name: '\u0000\u0001', phone: '13900000000' },
    { customer_name: 'x', phone: '\u0000' },
    { customer_name: 'x'.repeat(129), phone: newPhone() },
    { customer_name: 'x', phone: '1'.repeat(5000) },
    { customer_name: 'x', phone: newPhone(), expected_visit_ms: 1e300 },
    { customer_name: 'x', phone: newPhone(), expected_visit_ms: -5 },
    { customer_name: 'x', phone: newPhone(), agent: 2 ** 63 },
    { customer_name: '\ud83d\ude00'.repeat(30), phone: '+86 139 0000 0000' },
  ];
  const errors = [];
  for (const body of weird) {
    const r = await a.post(`/api/v1/projects/${DEMO}/registrations`, body);
    if (r.status >= 500 || r.json?.error?.code === undefined && r.status !== 200) errors.push(`${JSON.stringify(body).slice(0, 80)}: ${describe(r)}`);
  }
  const lone = await a.call('POST', `/api/v1/projects/${DEMO}/registrations`, {
    body: Buffer.from('{"customer_name": "\\ud800", "phone": "13900000000"}'),
    headers: { 'Content-Type': 'application/json' },
  });
  if (lone.status >= 500) errors.push(`a lone surrogate: ${describe(lone)}`);
  for (const s of open) s.destroy();
  assert.deepEqual(errors, []);
  expectStatus(await S.admin.get('/api/v1/session'), 200, null, 'after the hostile input');
});

test('the server survives it all, stops cleanly on SIGTERM, with no sanitizer report', async () => {
  // Still answering after everything above.
  const who = await S.admin.get('/api/v1/session');
  expectStatus(who, 200, null, 'GET /api/v1/session after the whole test');
  assert.ok(srv.alive(), `the server is running: ${JSON.stringify(srv.exit)}`);
  const exit = await srv.stop();
  const report = srv.sanitizerReport();
  assert.equal(report, null, `sanitizer report in the server's stderr:\n${report}`);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM; stderr tail:\n${srv.stderr.slice(-2000)}`);
  assert.match(srv.stdout, /stopped/);
});

test('the access log holds no phone, name, slip code, token or password used here', () => {
  assert.ok(SECRETS.size > 50, `only ${SECRETS.size} values collected`);
  const lines = srv.stderr.split('\n');
  const gateway = /^fairvisit: one-time code for \d{3}\*{4}\d{4}: \d{6}$/;
  const leaks = [];
  for (const line of lines) {
    if (gateway.test(line)) continue; // the console gateway: a masked phone and the code, by design
    for (const [v, what] of SECRETS) if (line.includes(v)) leaks.push(`${what} in: ${line.slice(0, 200)}`);
  }
  for (const [v, what] of SECRETS) if (srv.stdout.includes(v)) leaks.push(`${what} on stdout`);
  for (const m of ERROR_MESSAGES) {
    for (const [v, what] of SECRETS) if (m.message.includes(v)) leaks.push(`${what} in an error message of ${m.where}: ${m.message.slice(0, 200)}`);
  }
  assert.deepEqual(leaks, []);
  assert.ok(ERROR_MESSAGES.length > 100, `${ERROR_MESSAGES.length} error messages seen`);
  // Every access line has the documented shape and names a route pattern, never an id or query.
  const access = lines.filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
  assert.ok(access.length > 300, `${access.length} access lines`);
  const shape = /^\S+Z (http|https) (GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|TRACE|CONNECT|OTHER) (\/\S*|\(no route\)) \d{3} \d+ \d+ms$/;
  const odd = access.filter((l) => !shape.test(l) || /\?|\/\d+(\/|\s)|\/[0-9a-f]{32}(\/|\s)/.test(l));
  assert.deepEqual(odd.slice(0, 10), [], 'access lines name the pattern only');
});
