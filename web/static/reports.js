/*
 * reports.js - the reports page (/reports): the project's report for a period (GET report),
 * drawn with chart.js: visits per day by channel (stacked bars, #chart-visits), first vs return
 * visits (lines, #chart-first-return), the registrations -> visits -> deals funnel per channel
 * (grouped bars, #chart-funnel), first-visit outcomes (#chart-outcomes), conflicts by kind and
 * status (#chart-conflicts), deals per channel (#table-deals) and commission per month, channel
 * and agent (#table-commission); the same report as CSV (#csv-link). Roles: admin, reception,
 * auditor (the impact assessment link: admin, auditor).
 */
(function () {
  "use strict";
  const $ = fv.$, el = fv.el;
  const S = { code: "", data: null };

  // Every day from..to (YYYY-MM-DD), so days without visits show as gaps.
  function days(from, to) {
    const out = [];
    let t = Date.parse(from + "T00:00:00Z");
    const end = Date.parse(to + "T00:00:00Z");
    while (t <= end && out.length < 400) { out.push(new Date(t).toISOString().slice(0, 10)); t += 86400000; }
    return out;
  }
  const uniq = (xs) => Array.from(new Set(xs));
  const short = (day) => day.slice(5); // MM-DD on the axis

  function query() {
    const p = new URLSearchParams();
    if ($("report-from").value) p.set("from", $("report-from").value);
    if ($("report-to").value) p.set("to", $("report-to").value);
    const q = p.toString();
    return q ? "?" + q : "";
  }

  function table(id, cols, rows) {
    const t = el("table", { id, "data-testid": id, dataset: { rows: rows.length } },
      el("thead", {}, el("tr", {}, cols.map((c) => el("th", { class: c.num ? "num" : "", text: fv.t(c.label) })))),
      el("tbody", {}, rows.length ? rows.map((r) => el("tr", {}, cols.map((c) => el("td", { class: c.num ? "num" : "", text: c.fmt ? c.fmt(r[c.key], r) : r[c.key] }))))
        : el("tr", {}, el("td", { colspan: cols.length, class: "empty", text: fv.t("reports.none") }))));
    return t;
  }

  function render() {
    const d = S.data;
    if (!d) return;
    const from = (d.period && d.period.from) || $("report-from").value;
    const to = (d.period && d.period.to) || $("report-to").value;
    const visits = d.visits || [];
    const allDays = from && to ? days(from, to) : uniq(visits.map((v) => v.day)).sort();
    const dayIdx = new Map(allDays.map((x, i) => [x, i]));
    $("report-asof").textContent = fv.t("reports.as_of", { time: d.as_of || "", tz: (d.period && d.period.timezone) || "UTC+8" });

    // visits per day by channel (stacked)
    const channels = uniq(visits.map((v) => v.channel));
    const perChannel = channels.map((ch) => {
      const vals = new Array(allDays.length).fill(0);
      for (const v of visits) if (v.channel === ch && dayIdx.has(v.day)) vals[dayIdx.get(v.day)] += (v.first || 0) + (v.return || 0);
      return { name: ch === "unattributed" ? fv.word(ch) : fv.channelName(ch), values: vals };
    });
    FVChart.bars($("box-visits"), { id: "chart-visits", categories: allDays.map(short), series: perChannel, stacked: true,
      label: fv.t("reports.visits_heading") });

    // first vs return (lines)
    const first = new Array(allDays.length).fill(0), ret = new Array(allDays.length).fill(0);
    for (const v of visits) if (dayIdx.has(v.day)) { first[dayIdx.get(v.day)] += v.first || 0; ret[dayIdx.get(v.day)] += v.return || 0; }
    FVChart.lines($("box-first-return"), { id: "chart-first-return", categories: allDays.map(short),
      series: [{ name: fv.word("first"), values: first }, { name: fv.word("return"), values: ret }], label: fv.t("reports.first_return_heading") });

    // funnel: stages as categories, one series per channel
    const funnel = d.funnel || [];
    const stages = ["registered", "visited", "channel_valid", "deals"];
    FVChart.bars($("box-funnel"), { id: "chart-funnel", categories: stages.map((st) => fv.t("reports.stage_" + st)),
      series: funnel.map((f) => ({ name: fv.channelName(f.channel), values: stages.map((st) => f[st] || 0) })), label: fv.t("reports.funnel_heading") });

    // outcomes of first visits
    const o = d.first_visit_outcomes || {};
    const outs = ["natural", "channel_valid", "channel_invalid", "pending_escort"];
    FVChart.bars($("box-outcomes"), { id: "chart-outcomes", categories: outs.map(fv.word),
      series: [{ name: fv.t("reports.first_visits"), values: outs.map((k) => o[k] || 0) }], label: fv.t("reports.outcomes_heading") });

    // conflicts by kind, stacked by status
    const conflicts = d.conflicts || [];
    const kinds = uniq(conflicts.map((c) => c.kind));
    const statuses = uniq(conflicts.map((c) => c.status));
    FVChart.bars($("box-conflicts"), { id: "chart-conflicts", categories: kinds.map(fv.word), stacked: true,
      series: statuses.map((st) => ({ name: fv.word(st), values: kinds.map((k) => conflicts.filter((c) => c.kind === k && c.status === st).reduce((a, c) => a + c.count, 0)) })),
      label: fv.t("reports.conflicts_heading") });

    // tables
    const money = (v) => fv.fmtMoney(v);
    fv.clear($("box-deals")).appendChild(table("table-deals", [
      { key: "channel", label: "reports.col_channel", fmt: fv.channelName }, { key: "deals", label: "reports.col_deals", num: true },
      { key: "amount_cents", label: "reports.col_amount", num: true, fmt: money }, { key: "flagged", label: "reports.col_flagged", num: true },
      { key: "commission_cents", label: "reports.col_commission", num: true, fmt: money }], d.deals || []));
    fv.clear($("box-commission")).appendChild(table("table-commission", [
      { key: "month", label: "reports.col_month" }, { key: "channel", label: "reports.col_channel", fmt: fv.channelName },
      { key: "agent", label: "reports.col_agent", fmt: (v) => v || "—" }, { key: "deals", label: "reports.col_deals", num: true },
      { key: "amount_cents", label: "reports.col_amount", num: true, fmt: money },
      { key: "commission_cents", label: "reports.col_commission", num: true, fmt: money }], d.commission || []));
  }

  async function load() {
    if (!S.code) return;
    $("csv-link").href = fv.API.reportCsv(S.code, query());
    $("impact-link").href = fv.API.impact(S.code);
    $("report-refresh").disabled = true;
    try {
      S.data = await fv.api("GET", fv.API.report(S.code, query()));
      fv.say("report-msg", "");
      render();
      document.body.dataset.reportLoaded = "true";
    } catch (e) {
      fv.say("report-msg", fv.errorText(e), "error");
    } finally {
      $("report-refresh").disabled = false;
    }
  }

  $("report-from").value = fv.today(-29);
  $("report-to").value = fv.today();
  $("period-form").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  for (const id of ["report-from", "report-to"]) $(id).addEventListener("change", () => { $("csv-link").href = fv.API.reportCsv(S.code, query()); });
  document.addEventListener("fv:lang", render);

  function onProject(code) { S.code = code; load(); }
  onProject.none = () => fv.say("report-msg", fv.t("common.no_projects"), "warn");

  fv.start({
    roles: ["admin", "reception", "auditor"],
    onReady: (user) => {
      $("impact-link").hidden = !(user.role === "admin" || user.role === "auditor");
      fv.projectPicker(onProject);
    },
  });
})();
