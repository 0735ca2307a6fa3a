// client.mjs - a small HTTP client on node:http / node:https for the API test: exact control of
// headers (no automatic Content-Type, cookies or compression), a chosen loopback source address
// (127.0.0.x: the server's rate limits and connection caps count per client address, so each
// caller of the test gets its own), a CA for the site's self-signed certificate, and no
// keep-alive (every request on a fresh connection, so idle timeouts never race a request).
//
// A Session is one login: its cookie and CSRF token. Cookies are never stored automatically: a
// response's Set-Cookie is returned to the caller, who decides which session it belongs to.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

// Called with every response (the test collects error messages to check them for personal data).
export const hooks = { onResponse: null };

// request(base, {method, path, headers, body, ip, ca, timeout}) ->
//   {status, headers, text, json, body (Buffer), setCookie: [..]}
export function request(base, opt) {
  const url = new URL(base);
  const isTls = url.protocol === 'https:';
  const mod = isTls ? https : http;
  let body = opt.body;
  if (body !== undefined && !Buffer.isBuffer(body)) body = Buffer.from(String(body));
  const headers = { Connection: 'close', ...(opt.headers || {}) };
  if (body !== undefined) headers['Content-Length'] = String(body.length);
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (fn, v) => {
      if (!done) {
        done = true;
        fn(v);
      }
    };
    const req = mod.request(
      {
        host: url.hostname,
        port: url.port,
        method: opt.method || 'GET',
        path: opt.path,
        headers,
        localAddress: opt.ip,
        agent: false,
        ca: opt.ca,
        timeout: opt.timeout ?? 120000,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const text = buf.toString('utf8');
          let json;
          if (/json/.test(res.headers['content-type'] || '')) {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          const out = {
            status: res.statusCode,
            headers: res.headers,
            text,
            json,
            body: buf,
            setCookie: res.headers['set-cookie'] || [],
          };
          if (hooks.onResponse) hooks.onResponse(out, opt);
          finish(resolve, out);
        });
        res.on('error', (e) => finish(reject, e));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${opt.method} ${opt.path}`)));
    // The server may answer (413) before it has read a large body, and close: keep the answer.
    req.on('error', (e) => setTimeout(() => finish(reject, e), 200));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

// The value of the fv_session cookie in a Set-Cookie list, or null.
export function sessionCookie(setCookie) {
  for (const c of setCookie) {
    const m = /^fv_session=([^;]*)/.exec(c);
    if (m) return m[1];
  }
  return null;
}

export class Session {
  // base: server URL; ip: the loopback source address this caller uses.
  constructor(base, { role, login = null, cookie = null, csrf = null, token = null, ip, ca } = {}) {
    this.base = base;
    this.role = role;
    this.login = login;
    this.cookie = cookie; // fv_session value
    this.csrf = csrf;
    this.token = token; // API token (Authorization: Bearer)
    this.ip = ip;
    this.ca = ca;
  }

  // A staff login: POST /api/v1/session. Returns {session, res}; session null on failure.
  static async login(base, login, password, { role, ip, ca } = {}) {
    const res = await request(base, {
      method: 'POST',
      path: '/api/v1/session',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login, password }),
      ip,
      ca,
    });
    if (res.status !== 200) return { session: null, res };
    const s = new Session(base, {
      role: role || res.json.user.role,
      login,
      cookie: sessionCookie(res.setCookie),
      csrf: res.json.csrf,
      ip,
      ca,
    });
    return { session: s, res };
  }

  // call(method, path, {body (object: JSON; Buffer/string: raw), contentType, csrf (false: none;
  // a string: that token), headers, ip, cookie}) -> response
  call(method, path, o = {}) {
    const headers = { ...(o.headers || {}) };
    const cookie = o.cookie !== undefined ? o.cookie : this.cookie;
    if (cookie) headers.Cookie = `fv_session=${cookie}`;
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (method !== 'GET' && o.csrf !== false && (this.csrf || typeof o.csrf === 'string')) {
      headers['X-CSRF-Token'] = typeof o.csrf === 'string' ? o.csrf : this.csrf;
    }
    let body = o.body;
    if (body !== undefined && !Buffer.isBuffer(body) && typeof body !== 'string') {
      body = JSON.stringify(body);
      if (o.contentType === undefined) headers['Content-Type'] = 'application/json';
    }
    if (o.contentType) headers['Content-Type'] = o.contentType;
    return request(this.base, {
      method,
      path,
      headers,
      body,
      ip: o.ip || this.ip,
      ca: this.ca,
      timeout: o.timeout,
    });
  }

  get(path, o) {
    return this.call('GET', path, o);
  }
  post(path, body, o = {}) {
    return this.call('POST', path, { ...o, body });
  }
  put(path, body, o = {}) {
    return this.call('PUT', path, { ...o, body });
  }
  del(path, o) {
    return this.call('DELETE', path, o);
  }
}

// Sends raw bytes over TCP and returns what came back (or '' when the server closed at once).
export function rawExchange(port, bytes, { ip = '127.0.0.1', waitMs = 1500, endAfterWrite = false } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    const sock = net.connect({ host: '127.0.0.1', port, localAddress: ip });
    const timer = setTimeout(() => sock.destroy(), waitMs);
    sock.on('connect', () => {
      sock.write(bytes);
      if (endAfterWrite) sock.end();
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}
