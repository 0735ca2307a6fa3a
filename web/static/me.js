/*
 * me.js - the visitor's self-service page (/me[?slip=CODE]): the slip code (and, when the
 * record has a phone, that phone and a one-time code) opens a visitor session; then what is held
 * (GET /api/v1/me) in plain words, a JSON copy, withdrawal of consent (templates deleted at
 * once) and deletion after an explicit confirmation. No staff login; the session is the
 * visitor's own and ends on "close" or deletion.
 */
(function () {
  "use strict";
  const $ = fv.$, el = fv.el;
  const S = { otpId: "", data: null };

  const slip = () => $("me-slip").value.trim().toUpperCase();
  const phone = () => $("me-phone").value.replace(/[\s-]/g, "");

  async function openSession(body) {
    const r = await fv.api("POST", fv.API.meSession, body, { noAuthRedirect: true });
    fv.setCsrf(r.csrf);
    fv.sessionHint(true);
    $("me-code").value = "";
    S.otpId = "";
    await loadRecord();
  }

  $("me-send").addEventListener("click", async () => {
    if (!/^[0-9A-Z]{10}$/.test(slip())) { fv.say("me-login-msg", fv.t("me.bad_slip"), "error"); return; }
    const body = { slip: slip() };
    if (phone()) body.phone = phone();
    $("me-send").disabled = true;
    fv.say("me-login-msg", "");
    try {
      const r = await fv.api("POST", fv.API.meOtp, body, { noAuthRedirect: true });
      if (!r.phone_needed) {
        await openSession({ slip: slip() });
      } else if (!phone()) {
        fv.say("me-login-msg", fv.t("me.phone_needed"), "warn");
        $("me-phone").focus();
      } else {
        S.otpId = r.otp_id || "";
        $("me-code-wrap").hidden = false;
        $("me-code").focus();
        fv.say("me-login-msg", fv.t("kiosk.code_sent"), "ok");
      }
    } catch (e) {
      fv.say("me-login-msg", fv.errorText(e), "error");
    } finally {
      $("me-send").disabled = false;
    }
  });

  $("me-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!S.otpId) { $("me-send").click(); return; }
    try {
      await openSession({ slip: slip(), phone: phone(), otp_id: S.otpId, otp_code: $("me-code").value.trim() });
    } catch (e) {
      fv.say("me-login-msg", fv.errorText(e), "error");
    }
  });

  async function loadRecord() {
    S.data = await fv.api("GET", fv.API.me, null, { noAuthRedirect: true });
    $("me-phone").value = "";
    $("me-login").hidden = true;
    $("me-record").hidden = false;
    $("me-logout").hidden = false;
    render();
  }

  function li(text) { return el("li", { text }); }

  function render() {
    const d = S.data;
    if (!d) return;
    const sum = fv.clear($("me-summary"));
    const active = (d.consents || []).filter((c) => !c.withdrawn);
    const visits = d.visits || [];
    sum.appendChild(li(d.phone ? fv.t("me.s_phone", { phone: d.phone }) : fv.t("me.s_no_phone")));
    sum.appendChild(li(d.template && d.template.held
      ? fv.t("me.s_template", { date: fv.fmtDate(d.template.expires_by) }) : fv.t("me.s_no_template")));
    sum.appendChild(li(fv.t("me.s_visits", { n: visits.length })));
    if (d.attribution) {
      // "natural (natural)" says nothing twice: the outcome is shown only when it adds something.
      const same = d.attribution.outcome === "natural";
      sum.appendChild(li(fv.t(same ? "me.s_attribution_natural" : "me.s_attribution",
        { channel: fv.channelName(d.attribution.channel), outcome: fv.word(d.attribution.outcome) })));
    }
    sum.appendChild(li(active.length ? fv.t("me.s_consent_active", { n: active.length }) : fv.t("me.s_consent_none")));
    sum.appendChild(li(fv.t("me.s_regs", { n: (d.registrations || []).length })));
    if ((d.deals || []).length) sum.appendChild(li(fv.t("me.s_deals", { n: d.deals.length })));

    const det = fv.clear($("me-details"));
    det.appendChild(el("h2", { i18n: "me.details_heading" }));
    det.appendChild(el("h3", { i18n: "me.visits" }));
    det.appendChild(visits.length ? el("ul", { class: "plain" }, visits.map((v) => li(
      (v.matched_by && v.matched_by !== "none"
        ? fv.t("me.visit_line", { when: fv.fmtDateTime(v.at), kind: fv.word(v.kind), by: fv.word(v.matched_by) })
        : fv.t("me.visit_line_new", { when: fv.fmtDateTime(v.at), kind: fv.word(v.kind) })) +
      (v.template_stored ? " · " + fv.t("me.template_made") : ""))))
      : el("p", { class: "empty", i18n: "me.none" }));
    det.appendChild(el("h3", { i18n: "me.consents" }));
    det.appendChild((d.consents || []).length ? el("ul", { class: "plain" }, d.consents.map((c) => li(fv.t("me.consent_line", {
      when: fv.fmtDateTime(c.created), v: c.notice_version, device: c.device, method: c.method }) +
      (c.withdrawn ? " · " + fv.t("me.withdrawn_on", { when: fv.fmtDateTime(c.withdrawn) }) : " · " + fv.t("me.active")))))
      : el("p", { class: "empty", i18n: "me.none" }));
    det.appendChild(el("h3", { i18n: "me.regs" }));
    det.appendChild((d.registrations || []).length ? el("ul", { class: "plain" }, d.registrations.map((r) => li(fv.t("me.reg_line", {
      channel: fv.channelName(r.channel), when: fv.fmtDateTime(r.created), status: fv.word(r.status) }) + (r.refusal ? " (" + fv.word(r.refusal) + ")" : ""))))
      : el("p", { class: "empty", i18n: "me.none" }));
    if ((d.deals || []).length) {
      det.appendChild(el("h3", { i18n: "me.deals" }));
      det.appendChild(el("ul", { class: "plain" }, d.deals.map((x) => li(fv.t("me.deal_line", {
        when: fv.fmtDate(x.signed), role: fv.word(x.role), channel: fv.channelName(x.channel) })))));
    }
    det.appendChild(el("p", { class: "hint", i18n: "me.contact_hint" }));
    $("me-withdraw").disabled = !active.length && !(d.template && d.template.held);
  }

  $("me-download").addEventListener("click", () => {
    if (S.data) fv.download("my-data.json", JSON.stringify(S.data, null, 2));
  });

  $("me-withdraw").addEventListener("click", async () => {
    try {
      await fv.api("POST", fv.API.meWithdraw, {}, { noAuthRedirect: true });
      fv.say("me-msg", fv.t("me.withdrawn"), "ok");
      await loadRecord();
    } catch (e) {
      fv.say("me-msg", fv.errorText(e), "error");
    }
  });

  $("me-delete").addEventListener("click", () => {
    $("me-confirm").hidden = false;
    $("me-confirm-check").checked = false;
    $("me-delete-confirm").disabled = true;
    $("me-confirm-check").focus();
  });
  $("me-confirm-check").addEventListener("change", () => { $("me-delete-confirm").disabled = !$("me-confirm-check").checked; });
  $("me-delete-cancel").addEventListener("click", () => { $("me-confirm").hidden = true; });
  $("me-delete-confirm").addEventListener("click", async () => {
    try {
      await fv.api("DELETE", fv.API.me, null, { noAuthRedirect: true });
      S.data = null;
      fv.setCsrf("");
      fv.sessionHint(false);
      $("me-record").hidden = true;
      $("me-logout").hidden = true;
      $("me-deleted").hidden = false;
    } catch (e) {
      fv.say("me-msg", fv.errorText(e), "error");
    }
  });

  $("me-logout").addEventListener("click", async () => {
    try { await fv.api("DELETE", fv.API.session, null, { noAuthRedirect: true }); } catch (e) { /* gone */ }
    fv.setCsrf("");
    fv.sessionHint(false);
    S.data = null;
    fv.clear($("me-summary"));
    fv.clear($("me-details"));
    $("me-record").hidden = true;
    $("me-logout").hidden = true;
    $("me-login").hidden = false;
    $("me-code-wrap").hidden = true;
    $("me-slip").value = "";
  });

  document.addEventListener("fv:lang", render);

  fv.start({ roles: [] });
  const q = new URLSearchParams(location.search).get("slip");
  if (q) $("me-slip").value = q.toUpperCase();
  // A visitor session still open in this browser (e.g. after a reload) shows the record.
  if (fv.sessionHint()) fv.api("GET", fv.API.session, null, { noAuthRedirect: true })
    .then((s) => { if (s.user && s.user.role === "visitor") { fv.setCsrf(s.csrf); return loadRecord(); } return null; })
    .catch(() => {});
})();
