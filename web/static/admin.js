/*
 * admin.js - the admin page (/admin): the chosen project's rules (every number of PRODUCT.md
 * §3, retention, face-free switch, match threshold), new projects, channels with commission
 * rules, agents, users and roles (create, disable/enable, reset password, API tokens shown
 * once), the notice (publish a new version), audit chain check and purge. Role: admin.
 */
(function () {
  "use strict";
  const $ = fv.$, el = fv.el;
  const S = { code: "", project: null, channels: [], agents: [], users: [] };

  // The project settings the form edits: [name, kind, {min, max, step}].
  const SETTINGS = [
    ["name", "text"], ["controller", "text"], ["controller_contact", "text"],
    ["protection_days", "int", 1, 365], ["deal_window_days", "int", 1, 3650], ["escort_window_minutes", "int", 1, 1440],
    ["retention_days", "int", 1, 3650], ["guardian_age", "int", 1, 18], ["face_free", "bool"],
    ["match_threshold", "num", 0, 1, 0.01], ["match_margin", "num", 0, 1, 0.01],
    ["otp_ttl_seconds", "int", 30, 3600], ["otp_max_attempts", "int", 1, 20], ["otp_per_phone_per_hour", "int", 1, 100],
  ];

  const say = (text, kind) => fv.say("admin-msg", text, kind);
  const fail = (e) => say(fv.errorText(e), "error");

  // ---- project settings -------------------------------------------------------------------------
  function buildSettingsForm() {
    const form = fv.clear($("settings-form"));
    const grid = el("div", { class: "grid" });
    for (const [name, kind, min, max, step] of SETTINGS) {
      const id = "set-" + name;
      if (kind === "bool") {
        grid.appendChild(el("label", { class: "check" }, el("input", { type: "checkbox", id, "data-testid": id }),
          el("span", { i18n: "f." + name })));
        continue;
      }
      grid.appendChild(el("div", {},
        el("label", { for: id, i18n: "f." + name }),
        el("input", { id, "data-testid": id, type: kind === "text" ? "text" : "number", min, max,
          step: kind === "num" ? step : kind === "int" ? 1 : undefined, required: kind === "text" })));
    }
    form.appendChild(grid);
    form.appendChild(el("p", { class: "hint", i18n: "admin.settings_hint" }));
    form.appendChild(el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", id: "settings-save", "data-testid": "settings-save", i18n: "admin.save" })));
    form.addEventListener("submit", saveSettings);
  }

  function fillSettings(p) {
    for (const [name, kind] of SETTINGS) {
      const n = $("set-" + name);
      if (!n) continue;
      if (kind === "bool") n.checked = !!p[name];
      else n.value = p[name] === undefined || p[name] === null ? "" : p[name];
      n.disabled = p[name] === undefined;
    }
  }

  async function saveSettings(ev) {
    ev.preventDefault();
    const body = {};
    for (const [name, kind] of SETTINGS) {
      const n = $("set-" + name);
      if (!n || n.disabled) continue;
      if (kind === "bool") body[name] = n.checked;
      else if (kind === "text") body[name] = n.value.trim();
      else if (n.value !== "") body[name] = kind === "int" ? parseInt(n.value, 10) : Number(n.value);
    }
    try {
      S.project = await fv.api("PUT", fv.API.project(S.code), body);
      fillSettings(S.project);
      say(fv.t("admin.saved"), "ok");
    } catch (e) { fail(e); }
  }

  $("new-project-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await fv.api("POST", fv.API.projects, {
        code: $("np-code").value.trim(), name: $("np-name").value.trim(), controller: $("np-controller").value.trim(),
        controller_contact: $("np-contact").value.trim(), face_free: $("np-face-free").checked });
      say(fv.t("admin.project_created", { code: r.code }), "ok");
      $("new-project-form").reset();
      const url = new URL(location.href);
      url.searchParams.set("project", r.code);
      history.replaceState(null, "", url);
      await fv.projectPicker(onProject);
    } catch (e) { fail(e); }
  });

  // ---- channels and agents ------------------------------------------------------------------------
  function commissionText(c) {
    if (c.commission === "percent") return (c.commission_value / 100).toFixed(2) + "%";
    if (c.commission === "fixed") return fv.fmtMoney(c.commission_value) + " / " + fv.t("admin.per_deal");
    return fv.t("admin.comm_none");
  }

  async function loadChannels() {
    try {
      S.channels = fv.list(await fv.api("GET", fv.API.channels(S.code)), "channels");
      S.agents = fv.list(await fv.api("GET", fv.API.agents(S.code)), "agents");
    } catch (e) { fail(e); }
    renderChannels();
  }

  function renderChannels() {
    const cb = fv.clear($("channels-body"));
    for (const c of S.channels) cb.appendChild(el("tr", { "data-testid": "channel-row", dataset: { channelId: c.id } },
      el("td", { text: c.id }), el("td", { text: fv.word(c.kind) }), el("td", { text: fv.channelName(c.name) }),
      el("td", { text: c.protection_days === null ? fv.t("admin.default") : c.protection_days }),
      el("td", { text: commissionText(c) }), el("td", { class: "num", text: c.agents })));
    const ab = fv.clear($("agents-body"));
    for (const a of S.agents) ab.appendChild(el("tr", { "data-testid": "agent-row", dataset: { agentId: a.id } },
      el("td", { text: a.id }), el("td", { text: a.name }), el("td", { text: a.channel }), el("td", { text: a.team || "" }),
      el("td", { text: a.protection_days === null ? fv.t("admin.default") : a.protection_days })));
    const sel = fv.clear($("ag-channel"));
    for (const c of S.channels) if (c.kind !== "natural") sel.appendChild(el("option", { value: c.id, text: c.name }));
    fillScope();
  }

  $("ch-commission").addEventListener("change", () => {
    const k = $("ch-commission").value;
    $("ch-value-label").dataset.i18n = k === "fixed" ? "admin.comm_value_fixed" : "admin.comm_value_percent";
    $("ch-value-label").textContent = fv.t($("ch-value-label").dataset.i18n);
    $("ch-value").disabled = k === "none";
  });

  $("channel-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const comm = $("ch-commission").value;
    const body = { kind: $("ch-kind").value, name: $("ch-name").value.trim(), commission: comm };
    if ($("ch-protection").value) body.protection_days = parseInt($("ch-protection").value, 10);
    const v = Number($("ch-value").value || 0);
    if (comm !== "none") body.commission_value = Math.round(v * 100); // % -> basis points; yuan -> cents
    try {
      await fv.api("POST", fv.API.channels(S.code), body);
      $("channel-form").reset();
      say(fv.t("admin.added"), "ok");
      loadChannels();
    } catch (e) { fail(e); }
  });

  $("agent-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { name: $("ag-name").value.trim() };
    if ($("ag-team").value.trim()) body.team = $("ag-team").value.trim();
    if ($("ag-protection").value) body.protection_days = parseInt($("ag-protection").value, 10);
    try {
      await fv.api("POST", fv.API.channelAgents($("ag-channel").value), body);
      $("agent-form").reset();
      say(fv.t("admin.added"), "ok");
      loadChannels();
    } catch (e) { fail(e); }
  });

  // ---- users and tokens ---------------------------------------------------------------------------
  function fillScope() {
    const role = $("u-role").value;
    const sel = fv.clear($("u-scope"));
    const items = role === "agent" ? S.agents.map((a) => [a.id, a.name + " · " + a.channel])
      : role === "channel_manager" ? S.channels.filter((c) => c.kind !== "natural").map((c) => [c.id, c.name]) : [];
    for (const [id, name] of items) sel.appendChild(el("option", { value: id, text: "#" + id + " " + name }));
    sel.disabled = !items.length;
    sel.closest("div").hidden = !(role === "agent" || role === "channel_manager");
  }
  $("u-role").addEventListener("change", fillScope);

  async function loadUsers() {
    try {
      S.users = fv.list(await fv.api("GET", fv.API.users), "users");
    } catch (e) { fail(e); }
    renderUsers();
  }

  function scopeText(u) {
    if (u.role === "agent") { const a = S.agents.find((x) => x.id === u.scope_id); return a ? a.name : "#" + u.scope_id; }
    if (u.role === "channel_manager") { const c = S.channels.find((x) => x.id === u.scope_id); return c ? c.name : "#" + u.scope_id; }
    return "";
  }

  function renderUsers() {
    const body = fv.clear($("users-body"));
    for (const u of S.users) {
      const actions = el("td", { class: "user-actions" },
        el("button", { type: "button", class: "small", "data-testid": "user-toggle", text: fv.t(u.disabled ? "admin.enable" : "admin.disable"),
          on: { click: () => updateUser(u.id, { disabled: !u.disabled }) } }),
        el("button", { type: "button", class: "small", "data-testid": "user-password", text: fv.t("admin.reset_password"),
          on: { click: () => inlineForm(actions, "password", fv.t("admin.password_new"), (v) => updateUser(u.id, { password: v })) } }),
        el("button", { type: "button", class: "small", "data-testid": "user-token", text: fv.t("admin.new_token"),
          on: { click: () => inlineForm(actions, "text", fv.t("admin.token_name"), (v) => createToken(u.id, v)) } }));
      // The user's live API tokens, each with its revoke button (the token itself is never shown again).
      for (const t of (u.tokens || []).filter((x) => !x.revoked))
        actions.appendChild(el("button", { type: "button", class: "small", "data-testid": "token-revoke",
          dataset: { tokenId: t.id }, text: fv.t("admin.revoke_token", { name: t.name }),
          on: { click: () => revokeToken(t.id) } }));
      body.appendChild(el("tr", { "data-testid": "user-row", dataset: { userId: u.id, login: u.login } },
        el("td", { text: u.id }), el("td", { class: "mono", text: u.login }), el("td", { text: fv.roleName(u.role) }),
        el("td", { text: scopeText(u) }),
        el("td", {}, el("span", { class: "badge " + (u.disabled ? "err" : "ok"), text: fv.t(u.disabled ? "admin.disabled" : "admin.active") })),
        actions));
    }
  }

  // A one-field form under a row's buttons (new password, token name).
  function inlineForm(cell, type, label, submit) {
    const old = cell.querySelector("form");
    if (old) old.remove();
    const input = el("input", { type, "aria-label": label, placeholder: label, required: true, minlength: type === "password" ? "10" : undefined,
      autocomplete: type === "password" ? "new-password" : "off", "data-testid": "inline-input" });
    const f = el("form", { class: "row" }, input,
      el("button", { type: "submit", class: "small primary", "data-testid": "inline-submit", text: fv.t("admin.save") }),
      el("button", { type: "button", class: "small", text: fv.t("common.cancel"), on: { click: () => f.remove() } }));
    f.addEventListener("submit", async (ev) => { ev.preventDefault(); await submit(input.value); f.remove(); });
    cell.appendChild(f);
    input.focus();
  }

  async function updateUser(id, body) {
    try {
      await fv.api("PUT", fv.API.user(id), body);
      say(fv.t("admin.saved"), "ok");
      loadUsers();
    } catch (e) { fail(e); }
  }

  async function revokeToken(id) {
    try {
      await fv.api("DELETE", fv.API.token(id));
      say(fv.t("admin.token_revoked"), "ok");
      loadUsers();
    } catch (e) { fail(e); }
  }

  async function createToken(id, name) {
    try {
      const r = await fv.api("POST", fv.API.userTokens(id), { name });
      fv.say("token-out", fv.t("admin.token_once", { token: r.token }), "ok");
      loadUsers();
    } catch (e) { fail(e); }
  }

  $("user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const role = $("u-role").value;
    const body = { login: $("u-login").value.trim(), password: $("u-password").value, role };
    if ((role === "agent" || role === "channel_manager") && $("u-scope").value) body.scope_id = Number($("u-scope").value);
    try {
      await fv.api("POST", fv.API.users, body);
      $("user-form").reset();
      fillScope();
      say(fv.t("admin.added"), "ok");
      loadUsers();
    } catch (e) { fail(e); }
  });

  // ---- notice -------------------------------------------------------------------------------------------
  async function loadNotice() {
    $("poster-link").href = "/poster?project=" + encodeURIComponent(S.code);
    try {
      const n = await fv.api("GET", fv.API.notices(S.code));
      $("notice-zh").value = n.zh || "";
      $("notice-en").value = n.en || "";
      $("notice-current").textContent = fv.t("admin.notice_current", { v: n.version, date: fv.fmtDateTime(n.published) });
    } catch (e) {
      $("notice-current").textContent = e.status === 404 ? fv.t("admin.notice_none") : fv.errorText(e);
    }
  }
  $("notice-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await fv.api("POST", fv.API.notices(S.code), { text_zh: $("notice-zh").value, text_en: $("notice-en").value });
      say(fv.t("admin.notice_published", { v: r.version }), "ok");
      loadNotice();
    } catch (e) { fail(e); }
  });

  // ---- audit and purge --------------------------------------------------------------------------
  $("audit-verify").addEventListener("click", async () => {
    try {
      const r = await fv.api("GET", fv.API.auditVerify);
      fv.clear($("maint-out")).appendChild(el("p", { class: "msg", "data-testid": "audit-result", dataset: { kind: r.ok ? "ok" : "error", ok: String(r.ok) },
        text: r.ok ? fv.t("admin.audit_ok", { n: r.entries }) : fv.t("admin.audit_bad", { seq: r.first_bad, reason: r.reason }) }));
    } catch (e) { fail(e); }
  });
  $("purge-now").addEventListener("click", async () => {
    try {
      const r = await fv.api("POST", fv.API.purge, {});
      fv.clear($("maint-out")).appendChild(el("div", { "data-testid": "purge-result" }, fv.dl(r)));
    } catch (e) { fail(e); }
  });

  // ---- start ----------------------------------------------------------------------------------------
  async function onProject(code) {
    S.code = code;
    say("");
    try {
      S.project = await fv.api("GET", fv.API.project(code));
      fillSettings(S.project);
    } catch (e) { fail(e); }
    await loadChannels();
    loadUsers();
    loadNotice();
  }
  onProject.none = () => {
    say(fv.t("admin.no_projects"), "warn");
    $("tab-new-project").click();
    loadUsers();
  };

  document.addEventListener("fv:lang", () => { renderChannels(); renderUsers(); });

  fv.start({
    roles: ["admin"],
    onReady: () => {
      buildSettingsForm();
      fillScope();
      fv.tabs($("tabs"));
      fv.projectPicker(onProject);
    },
  });
})();
