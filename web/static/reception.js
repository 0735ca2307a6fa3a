/*
 * reception.js - the reception console (/reception): today's visits (refreshed every few
 * seconds while shown), escort confirmation of pending first visits, the conflict and appeal
 * queue with evidence and a decision form, phone check-in by reception (no one-time code) with
 * an optional escort agent, and deals with co-buyers. Roles: reception, admin.
 */
(function () {
  "use strict";
  const $ = fv.$, el = fv.el;
  const REFRESH_MS = 5000;
  const S = { code: "", agents: [], visits: [], conflicts: [], timer: 0, panel: "panel-visits" };

  function pageError(e) { fv.say("page-error", e ? fv.errorText(e) : "", e ? "error" : ""); }

  // ---- agents (for escort choices) -------------------------------------------------------------
  // The agent list is an admin read (GET agents); a reception login confirms the registration's
  // agent shown in the row, or types an agent's number for a phone check-in.
  async function loadAgents() {
    try {
      if (!fv.user || fv.user.role !== "admin") throw new Error("not listed");
      S.agents = fv.list(await fv.api("GET", fv.API.agents(S.code)), "agents");
    } catch (e) {
      S.agents = [];
    }
    const sel = $("rcheckin-agent");
    fv.clear(sel);
    sel.appendChild(el("option", { value: "", i18n: "reception.no_escort" }));
    for (const a of S.agents) sel.appendChild(el("option", { value: a.id, text: agentLabel(a) }));
    // Without the agent list (a reception login may not read it), the agent is typed as an id.
    $("rcheckin-agent").hidden = !S.agents.length;
    $("rcheckin-agent-id").hidden = !!S.agents.length;
  }
  const agentLabel = (a) => (a.name || "#" + a.id) + (a.channel ? " · " + a.channel : "");
  // Names of ids from what the page already holds: the agent list (admins) or today's visits.
  function channelName(id) {
    const a = S.agents.find((x) => x.channel_id === id);
    if (a) return fv.channelName(a.channel);
    const v = S.visits.find((x) => x.channel === id && x.channel_name);
    return v ? fv.channelName(v.channel_name) : "#" + id;
  }
  function agentName(id) {
    if (!id) return "—";
    const a = S.agents.find((x) => x.id === id);
    if (a) return a.name;
    const v = S.visits.find((x) => x.agent === id && x.agent_name);
    return v ? v.agent_name : "#" + id;
  }
  function agentSelect(id, preselect) {
    if (!S.agents.length) {
      return el("input", { id, type: "number", min: "1", class: "agent-id", value: preselect || "",
        "aria-label": fv.t("reception.agent_id"), placeholder: fv.t("reception.agent_id") });
    }
    const sel = el("select", { id, "aria-label": fv.t("reception.escort_agent") },
      el("option", { value: "", text: fv.t("reception.pick_agent") }),
      S.agents.map((a) => el("option", { value: a.id, text: agentLabel(a) })));
    if (preselect) sel.value = String(preselect);
    return sel;
  }

  // ---- visits ----------------------------------------------------------------------------------
  function badgeFor(outcome) {
    const cls = outcome === "channel_valid" ? "ok" : outcome === "channel_invalid" ? "err" : outcome === "pending_escort" ? "warn" : "";
    return el("span", { class: "badge " + cls, text: fv.word(outcome) });
  }

  function renderVisits() {
    const body = fv.clear($("visits-body"));
    if (!S.visits.length) {
      body.appendChild(el("tr", {}, el("td", { colspan: "7", class: "empty", i18n: "reception.no_visits" })));
      return;
    }
    for (const v of S.visits) {
      const pending = v.outcome === "pending_escort" && !v.escort;
      let escortCell;
      if (pending) {
        // The registration's agent is the one expected; reception confirms they came along
        // (or picks another agent when the list is available to this login).
        const sid = "escort-agent-" + v.visit;
        const who = S.agents.length ? agentSelect(sid, v.agent)
          : el("span", { id: sid, dataset: { agent: v.agent || "" }, text: v.agent_name || (v.agent ? "#" + v.agent : "") });
        escortCell = el("td", { class: "escort" },
          el("div", { class: "row" }, who,
            el("button", { type: "button", class: "small primary", id: "escort-confirm-" + v.visit,
              "data-testid": "escort-confirm", text: fv.t("reception.confirm_escort"),
              on: { click: () => confirmEscort(v.visit, sid) } })),
          v.escort_deadline ? el("div", { class: "hint", text: fv.t("reception.escort_until", { time: fv.fmtTime(v.escort_deadline) }) }) : "");
      } else {
        escortCell = el("td", { text: v.escort ? fv.word("escort_" + v.escort) : "" });
      }
      body.appendChild(el("tr", { id: "visit-" + v.visit, "data-testid": "visit-row", dataset: { visitId: v.visit, outcome: v.outcome || "", kind: v.kind || "" } },
        el("td", { text: fv.fmtTime(v.at) }),
        el("td", { class: "mono", text: v.phone_mask || "—" }),
        el("td", {}, fv.word(v.kind), v.conflict_open ? el("span", { class: "badge warn", text: fv.t("reception.conflict_open") }) : ""),
        el("td", { text: v.matched_by && v.matched_by !== "none" ? fv.word(v.matched_by) : "—" }),
        el("td", {}, fv.channelName(v.channel_name), v.agent_name ? el("div", { class: "hint", text: v.agent_name }) : ""),
        el("td", {}, v.outcome ? badgeFor(v.outcome) : ""),
        escortCell));
    }
  }

  // mode "auto": the timer (skipped while the user works in the table; messages stay);
  // "manual": the refresh button, the day or project changed (clears the message);
  // "after": after an action of this page (the action's message stays).
  async function refreshVisits(mode) {
    if (!S.code) return;
    const day = $("visits-day").value || fv.today();
    const focused = document.activeElement && document.activeElement.closest("#visits-body");
    if (mode === "auto" && focused) return;
    try {
      S.visits = fv.list(await fv.api("GET", fv.API.visits(S.code, day)), "visits");
      S.visits.sort((a, b) => (b.at || 0) - (a.at || 0)); // newest first
      renderVisits();
      $("visits-updated").textContent = fv.t("reception.updated", { time: fv.fmtTime(Date.now()), n: S.visits.length });
      if (mode === "manual") fv.say("visits-msg", "");
    } catch (e) {
      fv.say("visits-msg", fv.errorText(e), "error");
    }
  }

  async function confirmEscort(visitId, selectId) {
    const n = $(selectId);
    const agent = Number(n.value !== undefined && n.tagName !== "SPAN" ? n.value : n.dataset.agent);
    if (!agent) { fv.say("visits-msg", fv.t("reception.pick_agent_first"), "error"); return; }
    try {
      const r = await fv.api("POST", fv.API.escort(visitId), { agent });
      fv.say("visits-msg", fv.t("reception.escort_done", { outcome: fv.word(r.outcome || "channel_valid") }), "ok");
      await refreshVisits("after");
    } catch (e) {
      fv.say("visits-msg", fv.errorText(e), "error");
    }
  }

  function schedule() {
    clearTimeout(S.timer);
    S.timer = setTimeout(async () => {
      if (S.panel === "panel-visits" && document.visibilityState === "visible" && !$("app").hidden) await refreshVisits("auto");
      if (document.visibilityState === "visible" && !$("app").hidden) refreshConflictCount();
      schedule();
    }, REFRESH_MS);
  }

  // ---- conflicts -------------------------------------------------------------------------------
  async function fetchConflicts(filter) {
    if (filter === "pending") {
      const [open, appealed] = await Promise.all([
        fv.api("GET", fv.API.conflicts(S.code, "open")), fv.api("GET", fv.API.conflicts(S.code, "appealed"))]);
      return fv.list(open, "conflicts").concat(fv.list(appealed, "conflicts")).sort((a, b) => a.id - b.id);
    }
    return fv.list(await fv.api("GET", fv.API.conflicts(S.code, filter)), "conflicts");
  }

  async function refreshConflictCount() {
    if (!S.code) return;
    try {
      const n = (await fetchConflicts("pending")).length;
      $("conflict-count").textContent = String(n);
      $("conflict-count").hidden = n === 0;
    } catch (e) { /* shown when the tab is opened */ }
  }

  async function refreshConflicts(keepMsg) {
    if (!S.code) return;
    try {
      S.conflicts = await fetchConflicts($("conflict-filter").value);
      renderConflicts();
      if (keepMsg !== true) fv.say("conflicts-msg", "");
    } catch (e) {
      fv.say("conflicts-msg", fv.errorText(e), "error");
    }
    refreshConflictCount();
  }

  function renderConflicts() {
    const list = fv.clear($("conflict-list"));
    if (!S.conflicts.length) { list.appendChild(el("p", { class: "empty card", i18n: "reception.no_conflicts" })); return; }
    for (const c of S.conflicts) list.appendChild(conflictCard(c));
  }

  function conflictCard(c) {
    const decidable = c.status === "open" || c.status === "appealed";
    const card = el("article", { class: "card conflict", id: "conflict-" + c.id, "data-testid": "conflict", dataset: { conflictId: c.id, status: c.status } },
      el("h3", {}, fv.t("reception.conflict_title", { id: c.id, kind: fv.word(c.kind) }), " ",
        el("span", { class: "badge " + (decidable ? "warn" : "ok"), text: fv.word(c.status) }),
        c.appealed ? el("span", { class: "badge", text: fv.t("reception.appealed") }) : ""),
      el("p", { class: "hint", text: fv.t("reception.conflict_meta", {
        when: fv.fmtDateTime(c.created), channel: fv.channelName(c.channel_name) || "—", phone: c.phone_mask || "—" }) }),
      el("h4", { i18n: "reception.evidence" }), fv.dl(c.evidence));
    const decisions = c.decisions || [];
    if (decisions.length) {
      card.appendChild(el("h4", { i18n: "reception.history" }));
      card.appendChild(el("ol", { class: "decisions" }, decisions.map((d) =>
        el("li", {}, fv.fmtDateTime(d.at) + " · " + fv.word(d.action) + (d.verdict ? " · " + fv.word(d.verdict) : "") +
          " · " + (d.by || "") + (d.reason ? " — " : ""), d.reason ? el("q", { text: d.reason }) : ""))));
    }
    if (decidable) card.appendChild(decideForm(c));
    return card;
  }

  function decideForm(c) {
    const id = c.id;
    const msg = el("p", { class: "msg", role: "status", hidden: true, id: "decide-msg-" + id });
    const form = el("form", { class: "decide", id: "decide-form-" + id, "data-testid": "decide-form" },
      el("fieldset", {},
        el("legend", { text: fv.t(c.status === "appealed" ? "reception.decide_appeal" : "reception.decide") }),
        el("label", { class: "check" }, el("input", { type: "radio", name: "verdict-" + id, value: "uphold", id: "verdict-uphold-" + id, "data-testid": "verdict-uphold" }),
          el("span", { text: fv.t("reception.uphold") })),
        el("label", { class: "check" }, el("input", { type: "radio", name: "verdict-" + id, value: "overturn", id: "verdict-overturn-" + id, "data-testid": "verdict-overturn" }),
          el("span", { text: fv.t("reception.overturn") })),
        el("label", { for: "decide-reason-" + id, text: fv.t("reception.reason") }),
        el("textarea", { id: "decide-reason-" + id, "data-testid": "decide-reason", required: true, maxlength: "4000" })),
      msg,
      el("button", { type: "submit", class: "primary", id: "decide-submit-" + id, "data-testid": "decide-submit", text: fv.t("reception.decide_submit") }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const v = form.querySelector("input[name='verdict-" + id + "']:checked");
      const reason = $("decide-reason-" + id).value.trim();
      if (!v || !reason) { fv.say(msg, fv.t("reception.decide_incomplete"), "error"); return; }
      try {
        await fv.api("POST", fv.API.decide(id), { verdict: v.value, reason });
        fv.say("conflicts-msg", fv.t("reception.decided", { id }), "ok");
        await refreshConflicts(true);
      } catch (e) {
        fv.say(msg, fv.errorText(e), "error");
      }
    });
    return form;
  }

  // ---- phone check-in by reception ------------------------------------------------------------
  $("rcheckin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const phone = $("rcheckin-phone").value.replace(/[\s-]/g, "");
    if (!/^1\d{10}$/.test(phone)) { fv.say("rcheckin-msg", fv.t("kiosk.bad_phone"), "error"); return; }
    if (S.checkinPhone !== phone) { S.checkinPhone = phone; S.checkinIdem = fv.idemKey(); }
    const body = { phone, idempotency_key: S.checkinIdem };
    const agent = Number(S.agents.length ? $("rcheckin-agent").value : $("rcheckin-agent-id").value);
    if (agent) body.escort_agent = agent;
    $("rcheckin-submit").disabled = true;
    try {
      const r = await fv.api("POST", fv.API.checkins(S.code), body);
      $("rcheckin-phone").value = "";
      S.checkinPhone = "";
      fv.say("rcheckin-msg", fv.t("reception.checked_in", { kind: fv.word(r.kind), outcome: fv.word(r.outcome) }), "ok");
      $("rcheckin-slip").textContent = r.slip || "";
      fv.clear($("rcheckin-qr"));
      $("rcheckin-qr-token").textContent = r.qr || "";
      if (r.qr) {
        const svg = FVQR.svg(r.qr, { scale: 5, label: fv.t("kiosk.qr_label") });
        svg.dataset.token = r.qr;
        $("rcheckin-qr").appendChild(svg);
        $("rcheckin-qr").dataset.token = r.qr;
      }
      $("rcheckin-result").hidden = false;
      refreshVisits("after");
    } catch (e) {
      fv.say("rcheckin-msg", fv.errorText(e), "error");
    } finally {
      $("rcheckin-submit").disabled = false;
    }
  });

  // ---- deals -------------------------------------------------------------------------------------
  function addBuyer(value) {
    const list = $("buyer-list");
    const n = list.children.length;
    if (n >= 8) return;
    const id = "deal-buyer-" + n;
    const row = el("div", { class: "buyer" },
      el("input", { id, type: "tel", inputmode: "numeric", class: "buyer-phone", "data-testid": "deal-buyer",
        "aria-label": fv.t(n === 0 ? "reception.main_buyer" : "reception.co_buyer"), placeholder: fv.t(n === 0 ? "reception.main_buyer" : "reception.co_buyer"),
        required: n === 0, value: value || "" }),
      n > 0 ? el("button", { type: "button", class: "small", text: fv.t("common.remove"), on: { click: () => { row.remove(); } } }) : "");
    list.appendChild(row);
    $("add-buyer").hidden = list.children.length >= 8;
  }
  $("add-buyer").addEventListener("click", () => addBuyer(""));

  $("deal-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const buyers = Array.from(document.querySelectorAll(".buyer-phone")).map((i) => i.value.replace(/[\s-]/g, "")).filter(Boolean);
    if (!buyers.length || buyers.some((p) => !/^1\d{10}$/.test(p))) { fv.say("deal-msg", fv.t("kiosk.bad_phone"), "error"); return; }
    const amount = Math.round(Number($("deal-amount").value) * 100);
    const day = $("deal-signed").value;
    if (!(amount > 0) || !day) { fv.say("deal-msg", fv.t("reception.deal_incomplete"), "error"); return; }
    $("deal-submit").disabled = true;
    try {
      const body = { buyer_phones: buyers, amount_cents: amount, signed_ms: fv.dayToMs(day) + 12 * 3600 * 1000 };
      const sig = JSON.stringify(body);
      if (S.dealSig !== sig) { S.dealSig = sig; S.dealIdem = fv.idemKey(); } // the same deal retried: applied once
      body.idempotency_key = S.dealIdem;
      const r = await fv.api("POST", fv.API.deals(S.code), body);
      S.dealSig = "";
      fv.say("deal-msg", fv.t("reception.deal_done", { id: r.id }), r.flagged ? "warn" : "ok");
      const out = fv.clear($("deal-result"));
      out.appendChild(fv.dl({
        [fv.t("reception.deal_channel")]: channelName(r.channel),
        [fv.t("reception.deal_agent")]: agentName(r.agent),
        [fv.t("reception.deal_in_window")]: r.in_window ? fv.t("common.yes") : fv.t("common.no"),
        [fv.t("reception.deal_flagged")]: r.flagged ? fv.t("reception.deal_flagged_yes") : fv.t("common.no"),
        [fv.t("reception.deal_commission")]: fv.fmtMoney(r.commission_cents),
      }));
      out.hidden = false;
      fv.clear($("buyer-list"));
      addBuyer("");
      $("deal-amount").value = "";
    } catch (e) {
      fv.say("deal-msg", fv.errorText(e), "error");
    } finally {
      $("deal-submit").disabled = false;
    }
  });

  // ---- start -------------------------------------------------------------------------------------
  function onProject(code) {
    S.code = code;
    pageError(null);
    loadAgents().then(() => renderVisits());
    refreshVisits("manual");
    refreshConflicts();
  }
  onProject.none = () => fv.say("page-error", fv.t("common.no_projects"), "warn");

  $("visits-day").value = fv.today();
  $("deal-signed").value = fv.today();
  $("visits-day").addEventListener("change", () => refreshVisits("manual"));
  $("visits-refresh").addEventListener("click", () => refreshVisits("manual"));
  $("conflicts-refresh").addEventListener("click", () => refreshConflicts());
  $("conflict-filter").addEventListener("change", () => refreshConflicts());
  document.addEventListener("fv:lang", () => { renderVisits(); if (S.code) renderConflicts(); });

  fv.start({
    roles: ["reception", "admin"],
    onReady: () => {
      addBuyer("");
      fv.tabs($("tabs"), (panel) => { S.panel = panel; if (panel === "panel-visits") refreshVisits("auto"); if (panel === "panel-conflicts") refreshConflicts(); });
      fv.projectPicker(onProject);
      schedule();
    },
  });
})();
