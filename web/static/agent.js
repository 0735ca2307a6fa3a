/*
 * agent.js - the agent portal (/agent), laid out for a phone: confirm an escort by the visit's
 * QR code (BarcodeDetector with the camera where the browser has it; always a text field for the
 * code), register a customer, follow one's registrations (masked phones only) and appeal a
 * decision once. Roles: agent (a channel manager may list, register for a named agent, appeal).
 */
(function () {
  "use strict";
  const $ = fv.$, el = fv.el;
  const S = { code: "", regs: [], conflicts: [], stream: null, scanning: false };

  // ---- escort by QR ------------------------------------------------------------------------------
  // The QR code holds the visit's token; a URL with ?qr=TOKEN is accepted too.
  function tokenOf(text) {
    const t = String(text || "").trim();
    const m = /[?&]qr=([^&#\s]+)/.exec(t);
    return m ? decodeURIComponent(m[1]) : t;
  }

  $("scan-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const qr = tokenOf($("qr-token").value);
    if (!qr) return;
    $("qr-submit").disabled = true;
    try {
      const r = await fv.api("POST", fv.API.escortScan, { qr });
      fv.say("scan-result", fv.t("agent.scan_done", { outcome: fv.word(r.outcome) }), r.outcome === "channel_valid" ? "ok" : "warn");
      $("scan-result").dataset.outcome = r.outcome || "";
      $("qr-token").value = "";
      loadRegs();
    } catch (e) {
      fv.say("scan-result", fv.errorText(e), "error");
      $("scan-result").dataset.outcome = "";
    } finally {
      $("qr-submit").disabled = false;
    }
  });

  async function startScan() {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
    let detector;
    try {
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      S.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      fv.say("scan-result", fv.t("agent.no_camera"), "error");
      return;
    }
    const v = $("scan-video");
    v.srcObject = S.stream;
    v.hidden = false;
    $("scan-start").hidden = true;
    $("scan-stop").hidden = false;
    try { await v.play(); } catch (e) { /* muted autoplay */ }
    S.scanning = true;
    while (S.scanning) {
      await new Promise((r) => setTimeout(r, 300));
      if (!S.scanning || !v.videoWidth) continue;
      let codes = [];
      try { codes = await detector.detect(v); } catch (e) { codes = []; }
      if (codes.length) {
        $("qr-token").value = tokenOf(codes[0].rawValue);
        stopScan();
        $("scan-form").requestSubmit();
        return;
      }
    }
  }
  function stopScan() {
    S.scanning = false;
    if (S.stream) for (const t of S.stream.getTracks()) t.stop();
    S.stream = null;
    $("scan-video").srcObject = null;
    $("scan-video").hidden = true;
    $("scan-stop").hidden = true;
    $("scan-start").hidden = !("BarcodeDetector" in window);
  }
  $("scan-start").addEventListener("click", startScan);
  $("scan-stop").addEventListener("click", stopScan);

  // ---- registrations -------------------------------------------------------------------------------
  $("reg-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const phone = $("reg-phone").value.replace(/[\s-]/g, "");
    if (!/^1\d{10}$/.test(phone)) { fv.say("reg-msg", fv.t("kiosk.bad_phone"), "error"); return; }
    const body = { customer_name: $("reg-name").value.trim(), phone };
    if ($("reg-visit").value) body.expected_visit_ms = fv.dayToMs($("reg-visit").value) + 10 * 3600 * 1000;
    if (fv.user && fv.user.role !== "agent") {
      const a = Number($("reg-agent") ? $("reg-agent").value : 0);
      if (a) body.agent = a;
    }
    const sig = JSON.stringify(body);
    if (S.regSig !== sig) { S.regSig = sig; S.regIdem = fv.idemKey(); } // a retry is applied once
    body.idempotency_key = S.regIdem;
    $("reg-submit").disabled = true;
    try {
      const r = await fv.api("POST", fv.API.registrations(S.code), body);
      S.regSig = "";
      if (r.status === "accepted") {
        fv.say("reg-msg", fv.t("agent.reg_accepted", { phone: r.phone_mask, until: fv.fmtDateTime(r.expires_ms) }), "ok");
        $("reg-name").value = "";
        $("reg-phone").value = "";
        $("reg-visit").value = "";
      } else {
        fv.say("reg-msg", fv.t("agent.reg_refused", { reason: fv.word(r.reason) }), "error");
      }
      $("reg-msg").dataset.status = r.status || "";
      loadRegs();
    } catch (e) {
      fv.say("reg-msg", fv.errorText(e), "error");
    } finally {
      $("reg-submit").disabled = false;
    }
  });

  function statusBadge(r) {
    if (r.status === "refused") return el("span", { class: "badge err", text: fv.word("refused") });
    if (r.outcome) {
      const cls = r.outcome === "channel_valid" ? "ok" : r.outcome === "channel_invalid" ? "err" : "warn";
      return el("span", { class: "badge " + cls, text: fv.word(r.outcome) });
    }
    if (r.live) return el("span", { class: "badge", text: fv.t("agent.live") });
    return el("span", { class: "badge", text: fv.t("agent.expired") });
  }

  function renderRegs() {
    const list = fv.clear($("reg-list"));
    if (!S.regs.length) { list.appendChild(el("p", { class: "empty", i18n: "agent.no_regs" })); return; }
    for (const r of S.regs) {
      list.appendChild(el("div", { class: "reg-item", "data-testid": "reg-item", dataset: { regId: r.id, status: r.status || "", outcome: r.outcome || "" } },
        el("div", { class: "top" }, el("span", { class: "mono", text: r.phone_mask }), statusBadge(r)),
        el("div", { class: "hint", text: r.status === "accepted"
          ? fv.t("agent.reg_line", { created: fv.fmtDateTime(r.created), until: fv.fmtDateTime(r.expires) })
          : fv.t("agent.reg_line_refused", { created: fv.fmtDateTime(r.created) }) }),
        r.refusal ? el("div", { class: "hint", text: fv.word(r.refusal) }) : ""));
    }
  }

  async function loadRegs() {
    if (!S.code) return;
    try {
      S.regs = fv.list(await fv.api("GET", fv.API.registrations(S.code)), "registrations");
      renderRegs();
      fv.say("reg-list-msg", "");
    } catch (e) {
      fv.say("reg-list-msg", fv.errorText(e), "error");
    }
  }
  $("reg-refresh").addEventListener("click", () => { loadRegs(); loadConflicts(); });

  // ---- decisions and appeals ------------------------------------------------------------------------
  async function loadConflicts(keepMsg) {
    if (!S.code) return;
    try {
      S.conflicts = fv.list(await fv.api("GET", fv.API.conflicts(S.code)), "conflicts");
      renderConflicts();
      if (keepMsg !== true) fv.say("appeal-msg", "");
    } catch (e) {
      fv.say("appeal-msg", fv.errorText(e), "error");
    }
  }

  function renderConflicts() {
    const list = fv.clear($("appeal-list"));
    if (!S.conflicts.length) { list.appendChild(el("p", { class: "empty", i18n: "agent.no_conflicts" })); return; }
    for (const c of S.conflicts.slice().reverse()) {
      const last = (c.decisions || []).filter((d) => d.reason).slice(-1)[0];
      const item = el("div", { class: "reg-item", id: "agent-conflict-" + c.id, "data-testid": "agent-conflict", dataset: { conflictId: c.id, status: c.status } },
        el("div", { class: "top" }, el("span", {}, fv.t("reception.conflict_title", { id: c.id, kind: fv.word(c.kind) })),
          el("span", { class: "badge " + (c.status === "closed" ? "" : c.status === "decided" ? "warn" : ""), text: fv.word(c.status) })),
        el("div", { class: "hint", text: (c.phone_mask || "") + " · " + fv.fmtDateTime(c.created) + (c.verdict ? " · " + fv.word(c.verdict) : "") }),
        last ? el("div", { class: "hint" }, el("q", { text: last.reason })) : "");
      if (c.status === "decided" && !c.appealed) item.appendChild(appealForm(c));
      list.appendChild(item);
    }
  }

  function appealForm(c) {
    const msg = el("p", { class: "msg", role: "status", hidden: true });
    const ta = el("textarea", { id: "appeal-reason-" + c.id, "data-testid": "appeal-reason", required: true, maxlength: "4000" });
    const form = el("form", { class: "appeal", "data-testid": "appeal-form" },
      el("label", { for: "appeal-reason-" + c.id, text: fv.t("agent.appeal_reason") }), ta, msg,
      el("button", { type: "submit", class: "primary small", "data-testid": "appeal-submit", text: fv.t("agent.appeal_submit") }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const reason = ta.value.trim();
      if (!reason) { fv.say(msg, fv.t("agent.appeal_need_reason"), "error"); return; }
      try {
        await fv.api("POST", fv.API.appeal(c.id), { reason });
        fv.say("appeal-msg", fv.t("agent.appeal_done", { id: c.id }), "ok");
        loadConflicts(true);
      } catch (e) {
        fv.say(msg, fv.errorText(e), "error");
      }
    });
    return form;
  }

  document.addEventListener("fv:lang", () => { renderRegs(); renderConflicts(); });

  function onProject(code) {
    S.code = code;
    fv.say("page-error", "");
    loadRegs();
    loadConflicts();
  }
  onProject.none = () => fv.say("page-error", fv.t("common.no_projects"), "warn");

  fv.start({
    roles: ["agent", "channel_manager"],
    onReady: (user) => {
      $("scan-start").hidden = !("BarcodeDetector" in window);
      if (user.role !== "agent") {
        $("scan-card").hidden = true; // the escort scan is the agent's own act
        const wrap = el("div", {}, el("label", { for: "reg-agent", i18n: "agent.reg_agent" }),
          el("input", { id: "reg-agent", type: "number", min: "1", required: true, "data-testid": "reg-agent" }));
        $("reg-form").prepend(wrap);
      }
      const q = new URLSearchParams(location.search).get("qr");
      if (q) $("qr-token").value = q;
      fv.projectPicker(onProject);
    },
    onLogout: stopScan,
  });
})();
