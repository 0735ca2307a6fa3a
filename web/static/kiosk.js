/*
 * kiosk.js - the consent kiosk (/kiosk?project=CODE[&device=NAME]).
 *
 * Flow (docs/web.md): start -> notice (face projects) -> consent, a separate step with the age
 * attestation, where "Agree" and "Decline" are the same size and weight side by side -> either
 * the camera (consent recorded first, then a liveness session fed with JPEG frames until it
 * passes, then an optional phone) and a face check-in, or the phone with a one-time code and a
 * phone check-in -> the slip code and the visit's QR code -> back to start.
 *
 * Frames are never stored: each is drawn to a canvas, encoded to JPEG, sent, and the canvas is
 * cleared; nothing is kept in memory after the response. Everything a visitor typed or was shown
 * is wiped when the next visitor starts (and after a few idle minutes).
 */
(function () {
  "use strict";
  const $ = fv.$;
  const STEPS = ["step-start", "step-notice", "step-consent", "step-camera", "step-phone", "step-result"];
  const FRAME_INTERVAL_MS = 250;
  const LIVENESS_TIMEOUT_MS = 45000;
  const IDLE_RESET_MS = 180000;
  const RESULT_RESET_MS = 90000;

  const params = new URLSearchParams(location.search);
  const S = {
    project: null, // {code, name, face_free}
    notice: null, // {version, hash, zh, en}
    device: params.get("device") || "",
    mode: "phone", // "phone": the alternative; "face": optional phone after the face
    consentId: "",
    livenessId: "",
    otpId: "",
    stream: null,
    running: false,
    idleTimer: 0,
    resultTimer: 0,
  };

  function showStep(id) {
    for (const s of STEPS) $(s).hidden = s !== id;
    fv.say("kiosk-error", "");
    const h = $(id).querySelector("h2, button.primary");
    if (h) { if (h.tagName === "H2") h.tabIndex = -1; h.focus({ preventScroll: true }); }
    window.scrollTo(0, 0);
    document.body.dataset.step = id;
  }

  function fail(e) {
    fv.say("kiosk-error", typeof e === "string" ? e : fv.errorText(e), "error");
  }

  // ---- reset between visitors ----------------------------------------------------------------
  function reset() {
    stopCamera();
    S.running = false;
    S.consentId = S.livenessId = S.otpId = S.idem = S.idemSig = "";
    S.mode = "phone";
    delete $("challenge").dataset.challenge; // the next visitor starts with no challenge state
    delete $("challenge").dataset.stage;
    for (const id of ["phone", "otp-code"]) $(id).value = "";
    for (const r of document.querySelectorAll("input[name=age]")) r.checked = false;
    $("guardian-consent").checked = false;
    $("guardian-wrap").hidden = true;
    $("otp-wrap").hidden = true;
    $("phone-checkin").disabled = true;
    fv.say("phone-msg", "");
    fv.say("consent-msg", "");
    fv.clear($("visit-qr"));
    $("visit-qr-token").textContent = "";
    $("slip-code").textContent = "";
    $("result-kind").textContent = "";
    clearTimeout(S.resultTimer);
    if (fv.lang !== fv.defaultLang()) fv.setLang(fv.defaultLang(), false);
    showStep("step-start");
  }

  function touch() {
    clearTimeout(S.idleTimer);
    S.idleTimer = setTimeout(() => { if (!$("step-start").hidden) return; reset(); }, IDLE_RESET_MS);
  }
  document.addEventListener("pointerdown", touch);
  document.addEventListener("keydown", touch);

  // ---- project and notice --------------------------------------------------------------------
  async function loadProject() {
    let code = params.get("project");
    let info = null;
    try {
      const list = await fv.loadProjects();
      info = code ? list.find((p) => p.code === code) : list[0];
      if (!code && info) code = info.code;
    } catch (e) { /* the kiosk role may not list projects: ?project= is then required */ }
    if (!code) throw new Error(fv.t("kiosk.no_project"));
    if (!info || info.face_free === undefined) {
      try { info = Object.assign({}, info || {}, await fv.api("GET", fv.API.project(code))); } catch (e) { /* optional */ }
    }
    S.project = Object.assign({ code, name: code }, info || {});
    S.notice = null;
    try {
      S.notice = await fv.api("GET", fv.API.notice(code));
    } catch (e) {
      if (e.status !== 404) throw e; // 404: no notice published: no face option
    }
    if (S.notice && S.notice.face_free !== undefined) S.project.face_free = !!S.notice.face_free;
    if (S.notice && S.notice.name) S.project.name = S.notice.name;
    const name = S.project.name || code;
    $("kiosk-project-name").textContent = name;
    $("kiosk-project-name").removeAttribute("data-i18n");
    document.body.dataset.project = code;
    document.body.dataset.faceFree = faceAllowed() ? "false" : "true";
  }

  const faceAllowed = () => !!(S.project && !S.project.face_free && S.notice && S.notice.version);

  function paragraphs(container, text) {
    fv.clear(container);
    for (const para of String(text || "").split(/\n+/)) {
      if (para.trim()) container.appendChild(fv.el("p", { text: para.trim() }));
    }
  }

  function renderNotice() {
    if (!S.notice) return;
    const zh = fv.lang === "zh-CN";
    paragraphs($("notice-text"), zh ? S.notice.zh : S.notice.en);
    $("notice-text").setAttribute("lang", zh ? "zh-CN" : "en");
    paragraphs($("notice-text-other"), zh ? S.notice.en : S.notice.zh);
    $("notice-text-other").setAttribute("lang", zh ? "en" : "zh-CN");
    $("notice-other-summary").textContent = zh ? "Read this notice in English" : "阅读中文告知";
    $("notice-version").textContent = fv.t("kiosk.notice_version", {
      v: S.notice.version, date: S.notice.published ? fv.fmtDate(S.notice.published) : "" });
  }
  // The age line of the project (guardian_age, 14 by default) in the age attestation.
  const guardianAge = () => (S.notice && S.notice.guardian_age) || (S.project && S.project.guardian_age) || 14;
  function renderAge() {
    $("age-adult-text").textContent = fv.t("kiosk.age_adult", { age: guardianAge() });
    $("age-minor-text").textContent = fv.t("kiosk.age_minor", { age: guardianAge() });
  }
  document.addEventListener("fv:lang", () => { renderNotice(); renderPhoneIntro(); renderAge(); });

  // ---- steps -----------------------------------------------------------------------------------
  $("kiosk-start").addEventListener("click", () => {
    reset();
    if (faceAllowed()) {
      renderNotice();
      renderAge();
      showStep("step-notice");
    } else {
      goPhone("phone");
    }
  });
  $("notice-next").addEventListener("click", () => showStep("step-consent"));

  document.querySelectorAll("input[name=age]").forEach((r) => r.addEventListener("change", () => {
    const minor = $("age-minor").checked;
    $("guardian-wrap").hidden = !minor;
    if (!minor) $("guardian-consent").checked = false;
    fv.say("consent-msg", "");
  }));

  $("consent-decline").addEventListener("click", () => goPhone("phone"));

  $("consent-agree").addEventListener("click", async () => {
    const age = $("age-adult").checked ? "adult" : $("age-minor").checked ? "minor" : "";
    if (!age) { fv.say("consent-msg", fv.t("kiosk.need_age"), "error"); return; }
    if (age === "minor" && !$("guardian-consent").checked) {
      fv.say("consent-msg", fv.t("kiosk.minor_needs_guardian", { age: guardianAge() }), "error");
      return;
    }
    const btn = $("consent-agree");
    btn.disabled = true;
    try {
      const r = await fv.api("POST", fv.API.consents(S.project.code), {
        notice_version: S.notice.version,
        notice_hash: S.notice.hash,
        device: S.device || (fv.user ? fv.user.login : "kiosk"),
        method: "kiosk_touch",
        age,
        guardian_consent: age === "minor",
      });
      S.consentId = r.consent_id || r.id || "";
      await startCamera();
    } catch (e) {
      fv.say("consent-msg", fv.errorText(e), "error");
    } finally {
      btn.disabled = false;
    }
  });

  // ---- camera and liveness ---------------------------------------------------------------------
  function stopCamera() {
    S.running = false;
    if (S.stream) for (const t of S.stream.getTracks()) t.stop();
    S.stream = null;
    const v = $("camera");
    v.srcObject = null;
  }

  function challengeText(c) {
    if (!c) return "";
    const key = "challenge." + c;
    return fv.t(key) !== key ? fv.t(key) : String(c);
  }

  // Visitor messages of a frame's answer: the reason codes ("occluded", "too_small", ...) in
  // the visitor's language; the server's English message where a code is unknown.
  function frameMessage(r) {
    const codes = r.reasons || [];
    const msgs = r.messages || [];
    const words = codes.map((code, i) => {
      const key = "reason." + code;
      return fv.t(key) !== key ? fv.t(key) : msgs[i] || code;
    });
    return Array.from(new Set(words.filter(Boolean))).join(" · ");
  }

  async function startCamera() {
    showStep("step-camera");
    $("camera-retry").hidden = true;
    $("challenge").textContent = "";
    $("frame-msg").textContent = fv.t("kiosk.camera_starting");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("frame-msg").textContent = fv.t("kiosk.no_camera");
      return;
    }
    try {
      S.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
    } catch (e) {
      $("frame-msg").textContent = fv.t("kiosk.no_camera");
      return;
    }
    const v = $("camera");
    v.srcObject = S.stream;
    try { await v.play(); } catch (e) { /* autoplay muted */ }
    await runLiveness();
  }

  // What the visitor should do now: the stage of the check decides (start: look straight;
  // action: the challenge; finish: look straight again).
  function stageText(stage, challenge) {
    if (stage === "action") return challengeText(challenge);
    if (stage === "finish") return fv.t("kiosk.stage_finish");
    return fv.t("kiosk.stage_start");
  }

  async function runLiveness() {
    $("camera-retry").hidden = true;
    let r;
    try {
      r = await fv.api("POST", fv.API.liveness(S.project.code), { consent_id: S.consentId });
    } catch (e) {
      $("frame-msg").textContent = fv.errorText(e);
      $("camera-retry").hidden = false;
      return;
    }
    S.livenessId = String(r.liveness_id || r.id || "");
    S.challenge = r.challenge || "";
    $("challenge").textContent = stageText("start", S.challenge);
    $("challenge").dataset.challenge = S.challenge;
    $("challenge").dataset.stage = "start";
    $("frame-msg").textContent = "";
    S.running = true;
    const canvas = document.createElement("canvas");
    const t0 = Date.now();
    const v = $("camera");
    while (S.running) {
      if (Date.now() - t0 > LIVENESS_TIMEOUT_MS) { livenessFailed(fv.t("kiosk.liveness_timeout")); return; }
      await new Promise((res) => setTimeout(res, FRAME_INTERVAL_MS));
      if (!S.running || !v.videoWidth) continue;
      const blob = await grab(v, canvas);
      if (!blob || !S.running) continue;
      let a;
      try {
        a = await fv.api("POST", fv.API.livenessFrames(S.livenessId), null, { raw: blob, type: "image/jpeg" });
      } catch (e) {
        livenessFailed(fv.errorText(e));
        return;
      }
      if (!S.running) return;
      if (a.challenge) S.challenge = a.challenge;
      $("challenge").textContent = stageText(a.stage, S.challenge);
      $("challenge").dataset.stage = a.stage || "";
      $("frame-msg").textContent = frameMessage(a);
      if (a.passed === true || a.stage === "passed") {
        S.running = false;
        stopCamera();
        $("challenge").textContent = fv.t("kiosk.liveness_ok");
        goPhone("face");
        return;
      }
    }
  }

  // One frame: video -> canvas -> JPEG; the canvas is cleared at once.
  function grab(video, canvas) {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((res) => canvas.toBlob((b) => {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      canvas.width = canvas.height = 0;
      res(b);
    }, "image/jpeg", 0.85));
  }

  function livenessFailed(msg) {
    S.running = false;
    $("frame-msg").textContent = msg;
    $("camera-retry").hidden = false;
  }
  $("camera-retry").addEventListener("click", () => { if (S.stream) runLiveness(); else startCamera(); });
  $("camera-cancel").addEventListener("click", async () => {
    stopCamera();
    // The visitor changed their mind: the consent just given is withdrawn (and any template).
    if (S.consentId) {
      try { await fv.api("POST", fv.API.consentWithdraw(S.consentId), {}); } catch (e) { /* reported by reception if it matters */ }
      S.consentId = "";
    }
    goPhone("phone");
  });

  // ---- phone and one-time code ---------------------------------------------------------------
  function renderPhoneIntro() {
    const face = S.mode === "face";
    $("phone-heading").textContent = fv.t(face ? "kiosk.phone_optional_heading" : "kiosk.phone_heading");
    const free = !!(S.project && S.project.face_free);
    $("phone-intro").textContent = fv.t(face ? "kiosk.phone_optional_intro" : free ? "kiosk.phone_intro_free" : "kiosk.phone_intro");
    $("phone-checkin").textContent = fv.t("kiosk.checkin");
  }

  function goPhone(mode) {
    S.mode = mode;
    S.otpId = "";
    $("otp-wrap").hidden = true;
    $("otp-code").value = "";
    $("phone-checkin").disabled = true;
    $("phone-skip").hidden = mode !== "face";
    fv.say("phone-msg", "");
    renderPhoneIntro();
    showStep("step-phone");
    $("phone").focus();
  }

  $("send-otp").addEventListener("click", async () => {
    const phone = $("phone").value.replace(/[\s-]/g, "");
    if (!/^1\d{10}$/.test(phone)) { fv.say("phone-msg", fv.t("kiosk.bad_phone"), "error"); return; }
    const btn = $("send-otp");
    btn.disabled = true;
    try {
      const r = await fv.api("POST", fv.API.otp(S.project.code), { phone });
      S.otpId = r.otp_id || r.id || "";
      $("otp-wrap").hidden = false;
      $("otp-code").focus();
      fv.say("phone-msg", fv.t("kiosk.code_sent"), "ok");
      setTimeout(() => { btn.disabled = false; }, 30000);
    } catch (e) {
      btn.disabled = false;
      fv.say("phone-msg", fv.errorText(e), "error");
    }
  });
  $("otp-code").addEventListener("input", () => {
    $("phone-checkin").disabled = !(S.otpId && /^\d{4,8}$/.test($("otp-code").value.trim()));
  });

  $("phone-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if ($("phone-checkin").disabled) return;
    const body = {
      phone: $("phone").value.replace(/[\s-]/g, ""),
      otp_id: S.otpId,
      otp_code: $("otp-code").value.trim(),
    };
    await checkin(body);
  });
  $("phone-skip").addEventListener("click", () => checkin({}));
  $("phone-back").addEventListener("click", reset);

  async function checkin(phoneFields) {
    const btn = $("phone-checkin");
    btn.disabled = true;
    $("phone-skip").disabled = true;
    try {
      let r;
      if (S.device) phoneFields.device = S.device;
      // The same request retried (a lost answer, a double tap) is applied once.
      const sig = S.mode + JSON.stringify(phoneFields);
      if (S.idemSig !== sig) { S.idemSig = sig; S.idem = fv.idemKey(); }
      phoneFields.idempotency_key = S.idem;
      if (S.mode === "face") {
        const body = Object.assign({ liveness_id: S.livenessId }, phoneFields);
        r = await fv.api("POST", fv.API.checkinsFace(S.project.code), body);
      } else {
        r = await fv.api("POST", fv.API.checkins(S.project.code), phoneFields);
      }
      if (r.kind === "uncertain") {
        // The face was not certain and no phone was given: nothing was recorded.
        $("phone-skip").hidden = true;
        fv.say("phone-msg", fv.t("kiosk.uncertain"), "warn");
        return;
      }
      showResult(r);
    } catch (e) {
      fv.say("phone-msg", fv.errorText(e), "error");
    } finally {
      btn.disabled = !(S.otpId && $("otp-code").value.trim());
      $("phone-skip").disabled = false;
    }
  }

  function showResult(r) {
    S.otpId = "";
    S.idem = S.idemSig = "";
    $("phone").value = "";
    $("otp-code").value = "";
    $("result-kind").textContent = fv.t(r.kind === "return" ? "kiosk.result_return" : "kiosk.result_first");
    $("slip-code").textContent = r.slip || "";
    $("slip-where").textContent = fv.t("kiosk.slip_where", { url: location.origin + "/me" });
    fv.clear($("visit-qr"));
    $("visit-qr-token").textContent = r.qr || "";
    if (r.qr) {
      const svg = FVQR.svg(r.qr, { scale: 7, label: fv.t("kiosk.qr_label") });
      svg.id = "visit-qr-svg";
      svg.dataset.token = r.qr;
      svg.setAttribute("data-testid", "visit-qr-svg");
      $("visit-qr").appendChild(svg);
      $("visit-qr").dataset.token = r.qr;
    }
    $("visit-qr-wrap").hidden = !r.qr;
    showStep("step-result");
    clearTimeout(S.resultTimer);
    S.resultTimer = setTimeout(reset, RESULT_RESET_MS);
  }
  $("kiosk-done").addEventListener("click", reset);

  // ---- start -------------------------------------------------------------------------------------
  fv.start({
    roles: ["kiosk", "reception"],
    onReady: async () => {
      try {
        await loadProject();
        reset();
      } catch (e) {
        fail(e instanceof fv.ApiError ? e : e.message);
      }
    },
    onLogout: () => { stopCamera(); },
  });
})();
