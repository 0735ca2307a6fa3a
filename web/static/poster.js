/*
 * poster.js - the entrance poster (/poster?project=CODE[&url=...]), COMPLIANCE C14: made from the
 * project's public notice endpoint (GET /api/v1/projects/:code/notice: controller, contact,
 * retention, face-free switch, notice version), both languages on the page (the chosen one
 * first), the self-service address as text and as a QR code. No login needed. The address
 * defaults to this page's origin + /me; a kiosk machine reached over loopback should put the
 * address visitors' phones use (the site's name or LAN address) in the field before printing.
 */
(function () {
  "use strict";
  const $ = fv.$, el = fv.el;
  const params = new URLSearchParams(location.search);
  let notice = null;

  function two(key, vars) {
    const b = fv.tBoth(key, vars);
    const zhFirst = fv.lang === "zh-CN";
    return [el("span", { class: "first", lang: zhFirst ? "zh-CN" : "en", text: zhFirst ? b.zh : b.en }),
      el("span", { class: "second", lang: zhFirst ? "en" : "zh-CN", text: zhFirst ? b.en : b.zh })];
  }

  function render() {
    if (!notice) return;
    const n = notice;
    const face = !n.face_free;
    const title = fv.tBoth(face ? "poster.heading" : "poster.heading_free");
    const zhFirst = fv.lang === "zh-CN";
    $("p-title-first").textContent = zhFirst ? title.zh : title.en;
    $("p-title-second").textContent = zhFirst ? title.en : title.zh;
    $("p-project").textContent = n.name || n.project || "";
    const pts = fv.clear($("p-points"));
    const vars = { days: n.retention_days, age: n.guardian_age, controller: n.controller, contact: n.controller_contact };
    const keys = face
      ? ["poster.p_purpose", "poster.p_consent", "poster.p_alternative", "poster.p_stored", "poster.p_retention", "poster.p_minors", "poster.p_controller"]
      : ["poster.p_free", "poster.p_free_phone", "poster.p_controller"];
    for (const k of keys) pts.appendChild(el("li", { "data-testid": "poster-point", dataset: { key: k } }, two(k, vars)));
    const where = fv.clear($("p-where"));
    where.appendChild(el("p", {}, two(face ? "poster.where_notice" : "poster.where_notice_free")));
    where.appendChild(el("p", {}, two("poster.where_me")));
    const url = $("poster-url").value.trim() || location.origin + "/me";
    $("p-url").textContent = url;
    const qr = fv.clear($("p-qr"));
    const svg = FVQR.svg(url, { scale: 4, label: url });
    svg.id = "poster-qr-svg";
    svg.dataset.text = url;
    qr.appendChild(svg);
    $("p-foot").textContent = n.version
      ? fv.t("poster.foot", { v: n.version, date: fv.fmtDate(n.published), code: n.project })
      : fv.t("poster.foot_none", { code: n.project });
    $("poster").hidden = false;
  }

  async function load() {
    const code = $("poster-project").value.trim();
    if (!code) { fv.say("poster-msg", fv.t("poster.need_project"), "warn"); return; }
    try {
      notice = await fv.api("GET", fv.API.notice(code), null, { noAuthRedirect: true });
      fv.say("poster-msg", notice.version || notice.face_free ? "" : fv.t("poster.no_notice"), "warn");
      render();
      const u = new URL(location.href);
      u.searchParams.set("project", code);
      history.replaceState(null, "", u);
    } catch (e) {
      fv.say("poster-msg", fv.errorText(e), "error");
    }
  }

  $("poster-form").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  $("poster-url").addEventListener("change", render);
  $("poster-print").addEventListener("click", () => window.print());
  document.addEventListener("fv:lang", render);

  fv.start({ roles: [] });
  $("poster-url").value = params.get("url") || location.origin + "/me";
  (async function () {
    let code = params.get("project") || "";
    if (!code && fv.sessionHint()) {
      try {
        const list = await fv.api("GET", fv.API.projects, null, { noAuthRedirect: true });
        const projects = fv.list(list, "projects");
        if (projects.length) code = projects[0].code;
      } catch (e) { /* not logged in: type the code */ }
    }
    $("poster-project").value = code;
    if (code) load();
    else fv.say("poster-msg", fv.t("poster.need_project"), "warn");
  })();
})();
