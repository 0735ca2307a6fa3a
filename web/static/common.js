/*
 * common.js - what every page shares: the language (zh-CN / en, strings from i18n.js), the JSON
 * API client (session cookie + the CSRF token kept in memory, sent as X-CSRF-Token on every
 * POST/PUT/DELETE), the shared login form, the project picker, small DOM and format helpers.
 * Loaded after i18n.js and before the page's own script. Exposes window.fv.
 *
 * Nothing here writes personal data anywhere but the DOM: localStorage holds only the chosen
 * language, the project code and the session hint; no API data, no logging of bodies.
 */
(function () {
  "use strict";
  const fv = (window.fv = {});
  const DICT = window.FV_DICT || {};
  const LANGS = ["zh-CN", "en"];

  // ---- API paths (docs/web.md lists which page calls which) ------------------------------
  const enc = encodeURIComponent;
  const P = (code) => "/api/v1/projects/" + enc(code);
  fv.API = {
    session: "/api/v1/session",
    projects: "/api/v1/projects",
    project: (c) => P(c),
    notice: (c) => P(c) + "/notice", // public: the kiosk's and the poster's
    notices: (c) => P(c) + "/notices", // admin: current (GET) and publish (POST)
    consents: (c) => P(c) + "/consents",
    consentWithdraw: (id) => "/api/v1/consents/" + enc(id) + "/withdraw",
    liveness: (c) => P(c) + "/liveness",
    livenessFrames: (id) => "/api/v1/liveness/" + enc(id) + "/frames",
    otp: (c) => P(c) + "/otp",
    checkins: (c) => P(c) + "/checkins",
    checkinsFace: (c) => P(c) + "/checkins/face",
    visits: (c, day) => P(c) + "/visits?day=" + enc(day),
    escort: (visit) => "/api/v1/visits/" + enc(visit) + "/escort",
    escortScan: "/api/v1/escort/scan",
    conflicts: (c, status) => P(c) + "/conflicts" + (status ? "?status=" + enc(status) : ""),
    decide: (id) => "/api/v1/conflicts/" + enc(id) + "/decision",
    appeal: (id) => "/api/v1/conflicts/" + enc(id) + "/appeal",
    deals: (c) => P(c) + "/deals",
    settle: (c) => P(c) + "/settle",
    registrations: (c) => P(c) + "/registrations",
    channels: (c) => P(c) + "/channels",
    channelAgents: (id) => "/api/v1/channels/" + enc(id) + "/agents",
    agents: (c) => P(c) + "/agents",
    report: (c, q) => P(c) + "/report" + (q || ""),
    reportCsv: (c, q) => P(c) + "/report.csv" + (q || ""),
    impact: (c) => P(c) + "/impact",
    users: "/api/v1/users",
    user: (id) => "/api/v1/users/" + enc(id),
    userTokens: (id) => "/api/v1/users/" + enc(id) + "/tokens",
    token: (id) => "/api/v1/tokens/" + enc(id),
    auditVerify: "/api/v1/audit/verify",
    purge: "/api/v1/purge",
    meOtp: "/api/v1/me/otp",
    meSession: "/api/v1/me/session",
    me: "/api/v1/me",
    meWithdraw: "/api/v1/me/withdraw",
  };

  // ---- language ------------------------------------------------------------------------------
  function defaultLang() {
    const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
    return /^zh\b/i.test(nav) ? "zh-CN" : "en";
  }
  let stored = null;
  try { stored = localStorage.getItem("fv_lang"); } catch (e) { stored = null; }
  fv.lang = LANGS.indexOf(stored) >= 0 ? stored : defaultLang();
  fv.defaultLang = defaultLang;

  // t("key", {n: 3}) -> the string in the current language with {n} replaced.
  fv.t = function (key, vars, lang) {
    const e = DICT[key];
    let s = e ? e[(lang || fv.lang) === "zh-CN" ? 0 : 1] : key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    return s;
  };
  // Both languages, for the bilingual poster and notices: "中文 / English".
  fv.tBoth = (key, vars) => ({ zh: fv.t(key, vars, "zh-CN"), en: fv.t(key, vars, "en") });

  // Fills every [data-i18n] (text), [data-i18n-placeholder], [data-i18n-aria-label] and
  // [data-i18n-title] under root.
  fv.applyI18n = function (root) {
    const r = root || document;
    r.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = fv.t(n.dataset.i18n); });
    r.querySelectorAll("[data-i18n-placeholder]").forEach((n) => {
      n.setAttribute("placeholder", fv.t(n.dataset.i18nPlaceholder));
    });
    r.querySelectorAll("[data-i18n-aria-label]").forEach((n) => {
      n.setAttribute("aria-label", fv.t(n.dataset.i18nAriaLabel));
    });
    r.querySelectorAll("[data-i18n-title]").forEach((n) => {
      n.setAttribute("title", fv.t(n.dataset.i18nTitle));
    });
    const title = document.querySelector("[data-i18n-doc-title]");
    if (title) document.title = fv.t(title.dataset.i18nDocTitle) + " · fairvisit";
  };

  fv.setLang = function (lang, persist) {
    fv.lang = LANGS.indexOf(lang) >= 0 ? lang : "en";
    document.documentElement.lang = fv.lang;
    if (persist !== false) {
      try { localStorage.setItem("fv_lang", fv.lang); } catch (e) { /* private mode */ }
    }
    fv.applyI18n(document);
    const sw = document.getElementById("lang-switch");
    if (sw) {
      sw.textContent = fv.lang === "zh-CN" ? "English" : "中文";
      sw.setAttribute("lang", fv.lang === "zh-CN" ? "en" : "zh-CN");
      sw.dataset.lang = fv.lang;
    }
    document.dispatchEvent(new CustomEvent("fv:lang", { detail: fv.lang }));
  };

  // ---- DOM helpers ----------------------------------------------------------------------------
  // el("td", {class: "x", text: "y", dataset: {id: 1}, on: {click: f}}, child, ...)
  fv.el = function (tag, attrs, ...children) {
    const n = document.createElement(tag);
    const a = attrs || {};
    for (const k of Object.keys(a)) {
      const v = a[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") n.textContent = String(v);
      else if (k === "i18n") { n.dataset.i18n = v; n.textContent = fv.t(v); }
      else if (k === "dataset") Object.assign(n.dataset, v);
      else if (k === "on") for (const ev of Object.keys(v)) n.addEventListener(ev, v[ev]);
      else if (k === "class") n.className = v;
      else if (v === true) n.setAttribute(k, "");
      else n.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      n.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return n;
  };
  fv.$ = (id) => document.getElementById(id);
  fv.clear = function (n) { while (n.firstChild) n.removeChild(n.firstChild); return n; };
  fv.show = function (n, on) { (typeof n === "string" ? fv.$(n) : n).hidden = !on; };

  // A status line (role=status / alert lives in the HTML): kind "ok", "error", "info" or "".
  fv.say = function (target, text, kind) {
    const n = typeof target === "string" ? fv.$(target) : target;
    if (!n) return;
    n.textContent = text || "";
    n.dataset.kind = kind || "";
    n.hidden = !text;
  };

  // ---- formats (the office's day is UTC+8) -----------------------------------------------------
  const TZ = 8 * 3600 * 1000;
  const pad = (x) => String(x).padStart(2, "0");
  fv.today = (offsetDays) => new Date(Date.now() + TZ + (offsetDays || 0) * 86400000).toISOString().slice(0, 10);
  fv.fmtTime = function (ms) {
    if (!ms) return "";
    const d = new Date(Number(ms) + TZ);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  };
  fv.fmtDateTime = function (ms) {
    if (!ms) return "";
    const d = new Date(Number(ms) + TZ);
    return d.toISOString().slice(0, 10) + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  };
  fv.fmtDate = (ms) => (ms ? new Date(Number(ms) + TZ).toISOString().slice(0, 10) : "");
  fv.fmtMoney = function (cents) {
    const v = Number(cents || 0) / 100;
    return "¥" + v.toLocaleString(fv.lang === "zh-CN" ? "zh-CN" : "en-US",
      { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  };
  // "YYYY-MM-DD" (office day) -> Unix ms at the office's midnight.
  fv.dayToMs = (day) => Date.parse(day + "T00:00:00Z") - TZ;
  // A word from the ledger ("channel_valid") in the current language, else the word itself.
  fv.word = (w) => (w === null || w === undefined || w === "" ? "" :
    (DICT["w." + w] ? fv.t("w." + w) : String(w)));

  // A fresh idempotency key (32 hex): a request retried with the same key and body is applied
  // once (check-ins, registrations, deals). Pages keep one per attempt and renew it on success.
  fv.idemKey = function () {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  };

  // A channel's name as shown: the project's built-in natural channel in the page's language.
  fv.channelName = (n) => (n === "natural" ? fv.word("natural") : n || "");

  // ---- the API client ---------------------------------------------------------------------------
  let csrf = "";
  fv.user = null;
  fv.setCsrf = (t) => { csrf = t || ""; };
  // Whether this browser may hold a session cookie (the cookie itself is HttpOnly): set at a
  // login, cleared at a logout or a 401, so a fresh page asks GET /api/v1/session only when a
  // session may exist (no needless 401). Holds "1" or nothing, never an identifier.
  fv.sessionHint = function (on) {
    try {
      if (on === undefined) return localStorage.getItem("fv_session_hint") === "1";
      if (on) localStorage.setItem("fv_session_hint", "1");
      else localStorage.removeItem("fv_session_hint");
    } catch (e) { return true; }
    return on;
  };

  class ApiError extends Error {
    constructor(status, code, message, body) {
      super(message || code || String(status));
      this.status = status;
      this.code = code || "http_" + status;
      this.body = body || null;
    }
  }
  fv.ApiError = ApiError;

  // api("POST", path, body) -> parsed JSON (or text for non-JSON answers); throws ApiError.
  // opts.raw: a Blob sent as is with opts.type (image uploads).
  fv.api = async function (method, path, body, opts) {
    const o = opts || {};
    const headers = { Accept: "application/json" };
    let payload;
    if (o.raw) {
      payload = o.raw;
      headers["Content-Type"] = o.type || "application/octet-stream";
    } else if (body !== undefined && body !== null) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
    let res;
    try {
      res = await fetch(path, { method, headers, body: payload, credentials: "same-origin", cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, "network", fv.t("err.network"));
    }
    const ct = res.headers.get("Content-Type") || "";
    let data = null;
    if (ct.indexOf("application/json") >= 0) {
      try { data = await res.json(); } catch (e) { data = null; }
    } else {
      data = await res.text();
    }
    if (res.status === 401) fv.sessionHint(false);
    if (!res.ok) {
      const err = data && data.error ? data.error : {};
      const e = new ApiError(res.status, err.code, err.message, data);
      if (res.status === 401 && fv.onUnauthenticated && !o.noAuthRedirect) fv.onUnauthenticated(e);
      throw e;
    }
    return data;
  };

  // A message for a failed call, in the current language, with the server's reason.
  fv.errorText = function (e) {
    if (!(e instanceof ApiError)) return fv.t("err.unexpected") + (e && e.message ? ": " + e.message : "");
    const key = "err." + e.code;
    const base = DICT[key] ? fv.t(key) : fv.t("err.generic", { status: e.status });
    const extra = e.message && e.message !== e.code ? e.message : "";
    return extra && extra !== base ? base + " (" + extra + ")" : base;
  };

  // Arrays from answers of either shape: [..] or {key: [..]} or {items: [..]}.
  fv.list = function (data, key) {
    if (Array.isArray(data)) return data;
    if (data && Array.isArray(data[key])) return data[key];
    if (data && Array.isArray(data.items)) return data.items;
    return [];
  };

  // ---- the page frame: language switch, login, logout, project picker ----------------------
  const ROLE_KEYS = { admin: "role.admin", reception: "role.reception", channel_manager: "role.channel_manager",
    agent: "role.agent", auditor: "role.auditor", kiosk: "role.kiosk", visitor: "role.visitor" };
  fv.roleName = (r) => (ROLE_KEYS[r] ? fv.t(ROLE_KEYS[r]) : r);

  function buildLogin(section, roles) {
    fv.clear(section);
    const err = fv.el("p", { id: "login-error", class: "msg", role: "alert", hidden: true, "data-testid": "login-error" });
    const form = fv.el("form", { id: "login-form", class: "card login", "data-testid": "login-form", autocomplete: "on" },
      fv.el("h2", { i18n: "login.title" }),
      fv.el("p", { class: "hint", id: "login-roles", text: fv.t("login.roles", { roles: roles.map(fv.roleName).join(" / ") }) }),
      fv.el("label", { for: "login-user" }, fv.el("span", { i18n: "login.user" })),
      fv.el("input", { id: "login-user", name: "username", "data-testid": "login-user", autocomplete: "username",
        required: true, autocapitalize: "none", spellcheck: "false" }),
      fv.el("label", { for: "login-password" }, fv.el("span", { i18n: "login.password" })),
      fv.el("input", { id: "login-password", name: "password", type: "password", "data-testid": "login-password",
        autocomplete: "current-password", required: true }),
      err,
      fv.el("button", { id: "login-submit", type: "submit", class: "primary", "data-testid": "login-submit", i18n: "login.submit" }));
    section.appendChild(form);
    document.addEventListener("fv:lang", () => {
      const r = fv.$("login-roles");
      if (r) r.textContent = fv.t("login.roles", { roles: roles.map(fv.roleName).join(" / ") });
    });
    return form;
  }

  // fv.start({roles: ["admin"], onReady(user), onLogout(), project: true})
  // Sets up the header, checks the session (GET /api/v1/session), shows the login form until a
  // user with one of the roles is logged in, then calls onReady(user).
  fv.start = function (opts) {
    const o = opts || {};
    const roles = o.roles || [];
    fv.setLang(fv.lang, false);
    const sw = fv.$("lang-switch");
    if (sw) sw.addEventListener("click", () => fv.setLang(fv.lang === "zh-CN" ? "en" : "zh-CN"));
    if (!roles.length) { if (o.onReady) o.onReady(null); return; }
    const loginSection = fv.$("login");
    const app = fv.$("app");
    const who = fv.$("who");
    const logout = fv.$("logout");
    const form = buildLogin(loginSection, roles);
    let ready = false;
    document.addEventListener("fv:lang", () => {
      if (who && fv.user) who.textContent = fv.user.login + " · " + fv.roleName(fv.user.role);
    });

    function enter(data) {
      fv.sessionHint(true);
      fv.user = data.user;
      fv.setCsrf(data.csrf);
      if (roles.indexOf(data.user.role) < 0) {
        showLogin(fv.t("login.wrong_role", { role: fv.roleName(data.user.role) }));
        if (logout) logout.hidden = false;
        return;
      }
      loginSection.hidden = true;
      app.hidden = false;
      if (who) {
        who.textContent = data.user.login + " · " + fv.roleName(data.user.role);
        who.hidden = false;
      }
      if (logout) logout.hidden = false;
      if (!ready) { ready = true; if (o.onReady) o.onReady(data.user); }
      else if (o.onRelogin) o.onRelogin(data.user);
    }
    function showLogin(msg) {
      app.hidden = true;
      loginSection.hidden = false;
      fv.say("login-error", msg || "", msg ? "error" : "");
      const u = fv.$("login-user");
      if (u && !u.value) u.focus();
    }
    fv.onUnauthenticated = () => { fv.setCsrf(""); showLogin(fv.t("login.expired")); };

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const btn = fv.$("login-submit");
      btn.disabled = true;
      fv.say("login-error", "");
      try {
        const data = await fv.api("POST", fv.API.session,
          { login: fv.$("login-user").value.trim(), password: fv.$("login-password").value }, { noAuthRedirect: true });
        fv.$("login-password").value = "";
        enter(data);
      } catch (e) {
        fv.say("login-error", fv.errorText(e), "error");
      } finally {
        btn.disabled = false;
      }
    });
    if (logout) logout.addEventListener("click", async () => {
      try { await fv.api("DELETE", fv.API.session, null, { noAuthRedirect: true }); } catch (e) { /* gone already */ }
      fv.setCsrf("");
      fv.sessionHint(false);
      fv.user = null;
      if (who) who.hidden = true;
      logout.hidden = true;
      if (o.onLogout) o.onLogout();
      showLogin("");
    });
    if (!fv.sessionHint()) { showLogin(""); return; }
    fv.api("GET", fv.API.session, null, { noAuthRedirect: true })
      .then(enter)
      .catch(() => showLogin(""));
  };

  // ---- projects --------------------------------------------------------------------------------
  // The projects the caller may see: [{code, name, face_free, ...}].
  fv.loadProjects = async function () {
    const data = await fv.api("GET", fv.API.projects);
    return fv.list(data, "projects");
  };

  // Fills <select id="project"> and calls onChange(code) now and on every change. The chosen
  // code comes from ?project=, then the last choice, then the first project.
  fv.projectPicker = async function (onChange) {
    const sel = fv.$("project");
    const params = new URLSearchParams(location.search);
    let projects = [];
    try {
      projects = await fv.loadProjects();
    } catch (e) {
      projects = [];
    }
    const want = params.get("project") || (function () {
      try { return localStorage.getItem("fv_project"); } catch (e) { return null; }
    })();
    if (!projects.length && want) projects = [{ code: want, name: want }];
    fv.projects = projects;
    fv.clear(sel);
    for (const p of projects) sel.appendChild(fv.el("option", { value: p.code, text: p.name ? p.name + " (" + p.code + ")" : p.code }));
    const pick = projects.some((p) => p.code === want) ? want : projects.length ? projects[0].code : "";
    sel.value = pick;
    const wrap = sel.closest(".project-pick");
    if (wrap) wrap.hidden = projects.length < 2; // one project: nothing to choose
    fv.project = pick;
    sel.onchange = () => {
      fv.project = sel.value;
      try { localStorage.setItem("fv_project", sel.value); } catch (e) { /* ignore */ }
      onChange(sel.value);
    };
    if (pick) onChange(pick);
    else if (onChange.none) onChange.none();
    return pick;
  };

  // Simple tabs: buttons [role=tab][aria-controls=panel-id] inside [role=tablist].
  fv.tabs = function (tablist, onShow) {
    const tabs = Array.from(tablist.querySelectorAll("[role=tab]"));
    const select = (tab) => {
      for (const t of tabs) {
        const on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        fv.$(t.getAttribute("aria-controls")).hidden = !on;
      }
      if (onShow) onShow(tab.getAttribute("aria-controls"));
    };
    tabs.forEach((t, i) => {
      t.addEventListener("click", () => select(t));
      t.addEventListener("keydown", (ev) => {
        const d = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
        if (!d) return;
        const next = tabs[(i + d + tabs.length) % tabs.length];
        next.focus();
        select(next);
      });
    });
    select(tabs.find((t) => t.getAttribute("aria-selected") === "true") || tabs[0]);
    return select;
  };

  // A JSON value shown as a small definition list (evidence of conflicts, settings).
  fv.dl = function (obj) {
    const dl = fv.el("dl", { class: "kv" });
    if (!obj || typeof obj !== "object") { dl.appendChild(fv.el("dd", { text: obj === undefined ? "" : String(obj) })); return dl; }
    for (const k of Object.keys(obj)) {
      let v = obj[k];
      if (typeof v === "number" && v > 1e12 && /(^|_)(at|created|expires|deadline|signed|decided|since|ms)$/.test(k)) v = fv.fmtDateTime(v);
      else if (v && typeof v === "object") v = JSON.stringify(v);
      dl.appendChild(fv.el("dt", { text: DICT["f." + k] ? fv.t("f." + k) : k }));
      dl.appendChild(fv.el("dd", { text: v === null ? "—" : String(v) }));
    }
    return dl;
  };

  // A CSV/JSON download of data the page already holds (no server round trip).
  fv.download = function (name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type: type || "application/json" }));
    const a = fv.el("a", { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
})();
