/*
 * chart.js - small SVG charts for the reports page: vertical bars (grouped or stacked) and lines.
 * No library. Every chart is one <svg> with a stable id (and data-testid), role="img", an
 * aria-label that summarises it, and data attributes saying what was drawn: data-series,
 * data-categories, data-points (data points drawn with a value > 0) and data-total (their sum);
 * every bar or point carries data-series, data-category and data-value. Colours come from the
 * classes c0..c7 in style.css; a legend in HTML follows the chart.
 *
 *   FVChart.bars(container, {id, categories, series: [{name, values}], stacked, label});
 *   FVChart.lines(container, {id, categories, series, label});
 */
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const W = 600, H = 260, M = { top: 14, right: 10, bottom: 40, left: 44 };

  function s(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    for (const k of Object.keys(attrs || {})) n.setAttribute(k, String(attrs[k]));
    if (text !== undefined) n.textContent = String(text);
    return n;
  }

  // A round maximum for the y axis and its tick step.
  function niceScale(max) {
    if (!(max > 0)) return { max: 1, step: 1 };
    const raw = max / 4;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / mag;
    const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
    const nice = Math.max(step, Math.ceil(max / step) * step);
    return { max: nice, step: step < 1 && Number.isInteger(max) ? 1 : step };
  }

  function frame(container, o, yMax) {
    while (container.firstChild) container.removeChild(container.firstChild);
    const svg = s("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", id: o.id, "data-testid": o.id,
      preserveAspectRatio: "xMinYMin meet" });
    svg.appendChild(s("title", {}, o.label || ""));
    const sc = niceScale(yMax);
    const ph = H - M.top - M.bottom;
    const y = (v) => M.top + ph - (v / sc.max) * ph;
    for (let v = 0; v <= sc.max + 1e-9; v += sc.step) {
      svg.appendChild(s("line", { class: "gridline", x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }));
      svg.appendChild(s("text", { x: M.left - 6, y: y(v) + 4, "text-anchor": "end" }, formatTick(v)));
    }
    svg.appendChild(s("line", { class: "axis", x1: M.left, x2: W - M.right, y1: y(0), y2: y(0) }));
    svg.appendChild(s("line", { class: "axis", x1: M.left, x2: M.left, y1: M.top, y2: y(0) }));
    return { svg, y, pw: W - M.left - M.right };
  }

  const formatTick = (v) => (Math.abs(v) >= 10000 ? (v / 1000).toFixed(0) + "k" : String(Math.round(v * 100) / 100));

  function xLabels(svg, cats, xOf, band) {
    const every = Math.max(1, Math.ceil(cats.length / Math.floor((W - M.left - M.right) / 48)));
    cats.forEach((c, i) => {
      if (i % every !== 0) return;
      const label = String(c).length > 12 ? String(c).slice(0, 11) + "…" : String(c);
      const t = s("text", { x: xOf(i) + band / 2, y: H - M.bottom + 16, "text-anchor": "middle" }, label);
      t.appendChild(s("title", {}, c));
      svg.appendChild(t);
    });
  }

  function legend(container, series) {
    const lg = document.createElement("div");
    lg.className = "legend";
    series.forEach((se, i) => {
      const sp = document.createElement("span");
      sp.className = "c" + (i % 8);
      sp.textContent = se.name;
      lg.appendChild(sp);
    });
    container.appendChild(lg);
  }

  function stamp(svg, o, points, total) {
    svg.setAttribute("data-series", String(o.series.length));
    svg.setAttribute("data-categories", String(o.categories.length));
    svg.setAttribute("data-points", String(points));
    svg.setAttribute("data-total", String(Math.round(total * 100) / 100));
    svg.setAttribute("aria-label", (o.label || "") + ": " + o.series.map((se) =>
      se.name + " " + se.values.reduce((a, b) => a + (Number(b) || 0), 0)).join(", "));
  }

  function bars(container, o) {
    const cats = o.categories, ser = o.series;
    let max = 0;
    cats.forEach((c, i) => {
      if (o.stacked) max = Math.max(max, ser.reduce((a, se) => a + (Number(se.values[i]) || 0), 0));
      else for (const se of ser) max = Math.max(max, Number(se.values[i]) || 0);
    });
    const f = frame(container, o, max);
    const band = f.pw / Math.max(1, cats.length);
    const xOf = (i) => M.left + i * band;
    const inner = band * 0.8, gap = band * 0.1;
    let points = 0, total = 0;
    cats.forEach((c, i) => {
      let acc = 0;
      ser.forEach((se, k) => {
        const v = Number(se.values[i]) || 0;
        if (v <= 0) return;
        points++;
        total += v;
        let x, w, y0, y1;
        if (o.stacked) { x = xOf(i) + gap; w = inner; y0 = f.y(acc); y1 = f.y(acc + v); acc += v; }
        else { w = inner / ser.length; x = xOf(i) + gap + k * w; y0 = f.y(0); y1 = f.y(v); }
        const r = s("rect", { class: "bar c" + (k % 8), x: x.toFixed(1), y: y1.toFixed(1), width: Math.max(1, w - 1).toFixed(1),
          height: Math.max(0.5, y0 - y1).toFixed(1), "data-series": se.name, "data-category": c, "data-value": v });
        r.appendChild(s("title", {}, c + " · " + se.name + ": " + v));
        f.svg.appendChild(r);
      });
    });
    xLabels(f.svg, cats, xOf, band);
    stamp(f.svg, o, points, total);
    container.appendChild(f.svg);
    legend(container, ser);
    return f.svg;
  }

  function lines(container, o) {
    const cats = o.categories, ser = o.series;
    let max = 0;
    for (const se of ser) for (const v of se.values) max = Math.max(max, Number(v) || 0);
    const f = frame(container, o, max);
    const band = f.pw / Math.max(1, cats.length);
    const xOf = (i) => M.left + i * band;
    let points = 0, total = 0;
    ser.forEach((se, k) => {
      let d = "";
      cats.forEach((c, i) => {
        const v = Number(se.values[i]) || 0;
        const x = xOf(i) + band / 2, y = f.y(v);
        d += (i ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
        if (v > 0) { points++; total += v; }
        const dot = s("circle", { class: "c" + (k % 8), cx: x.toFixed(1), cy: y.toFixed(1), r: 3,
          "data-series": se.name, "data-category": c, "data-value": v });
        dot.appendChild(s("title", {}, c + " · " + se.name + ": " + v));
        f.svg.appendChild(dot);
      });
      f.svg.insertBefore(s("path", { class: "line c" + (k % 8), d, "data-series": se.name }), f.svg.querySelector("circle"));
    });
    xLabels(f.svg, cats, xOf, band);
    stamp(f.svg, o, points, total);
    container.appendChild(f.svg);
    legend(container, ser);
    return f.svg;
  }

  window.FVChart = { bars, lines };
})();
