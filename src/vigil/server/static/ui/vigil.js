/* Vigil's dashboard: draws every <figure class="chart"> from its JSON spec with uPlot, submits
   the time-range picker on change, and fills the sign-in form from a #token= link.
   After drawing, a figure carries data-series (series drawn) and data-points (points drawn). */
(function () {
  "use strict";

  function fmtValue(v, unit) {
    if (v == null) return "-";
    var a = Math.abs(v), s;
    if (a !== 0 && (a < 0.001 || a >= 1e6)) s = v.toExponential(3);
    else s = (Math.round(v * 10000) / 10000).toString();
    return unit ? s + " " + unit : s;
  }

  function axisLabel(ax) {
    return ax.unit ? ax.label + " (" + ax.unit + ")" : ax.label;
  }

  function overlays(spec) {
    return function (u) {
      var ctx = u.ctx;
      ctx.save();
      (spec.bands || []).forEach(function (b) {
        var x0 = u.valToPos(b.start, "x", true), x1 = u.valToPos(b.end, "x", true);
        ctx.fillStyle = b.color;
        ctx.fillRect(x0, u.bbox.top, Math.max(x1 - x0, 2), u.bbox.height);
      });
      (spec.thresholds || []).forEach(function (t) {
        var y = u.valToPos(t.value, "y", true);
        if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
        ctx.strokeStyle = "#D55E00";
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, y);
        ctx.lineTo(u.bbox.left + u.bbox.width, y);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = "#D55E00";
        ctx.font = 11 * devicePixelRatio + "px sans-serif";
        ctx.textAlign = "left";  // uPlot's axes leave it right-aligned
        ctx.fillText(t.label + " " + fmtValue(t.value, ""), u.bbox.left + 4, y - 4);
      });
      ctx.restore();
    };
  }

  function draw(fig) {
    var spec = JSON.parse(fig.querySelector("script.chart-spec").textContent);
    var holder = fig.querySelector(".plot");
    var series = spec.series || [];
    var points = 0;
    series.forEach(function (s) { points += s.x.length; });
    fig.dataset.series = String(series.length);
    fig.dataset.points = String(points);
    if (!series.length || !points) { fig.dataset.drawn = "empty"; return; }
    var data = uPlot.join(series.map(function (s) { return [s.x, s.y]; }));
    var paths = spec.kind === "points" ? function () { return null; }  // markers, no line
      : spec.kind === "step" ? uPlot.paths.stepped({ align: 1 })
      : spec.kind === "bars" ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined;
    var lo = Infinity, hi = -Infinity;
    series.forEach(function (s) {
      s.y.forEach(function (v) { if (v != null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    });
    (spec.thresholds || []).forEach(function (t) { lo = Math.min(lo, t.value); hi = Math.max(hi, t.value); });
    if (spec.kind === "bars") lo = Math.min(lo, 0);
    if (lo === hi) { lo -= 1; hi += 1; }
    var pad = (hi - lo) * 0.08;
    var opts = {
      width: Math.max(holder.clientWidth || 600, 280),
      height: spec.height || 260,
      cursor: { sync: { key: "vigil" }, drag: { x: true, y: false } },
      legend: { live: true },
      scales: {
        // spec.x.range [min, max]: the page's whole time range, even around a single point
        x: spec.x.range ? { time: !!spec.x.time, range: spec.x.range } : { time: !!spec.x.time },
        y: { range: [lo - pad, hi + pad] }
      },
      axes: [
        { label: axisLabel(spec.x), stroke: "#333", grid: { stroke: "#e4e4e4" } },
        { label: axisLabel(spec.y), stroke: "#333", grid: { stroke: "#e4e4e4" }, size: 64,
          values: function (u, vals) { return vals.map(function (v) { return fmtValue(v, ""); }); } }
      ],
      series: [{ label: spec.x.label, value: spec.x.time ? "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" : undefined }]
        .concat(series.map(function (s) {
          return {
            label: s.label,
            stroke: s.color,
            width: 2,
            fill: spec.kind === "bars" ? s.color + "99" : undefined,
            paths: paths,
            points: { show: spec.kind === "points" || s.x.length < 60,
                      size: spec.kind === "points" ? 8 : 5, fill: s.color },
            spanGaps: false,
            value: function (u, v) { return fmtValue(v, spec.y.unit); }
          };
        })),
      hooks: { draw: [overlays(spec)] }
    };
    if (spec.x.time) opts.tzDate = function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); };
    var plot = new uPlot(opts, data, holder);
    fig._plot = plot;
    fig.dataset.drawn = "1";
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        var w = Math.max(holder.clientWidth, 280);
        if (Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: plot.height });
      }).observe(holder);
    }
  }

  function start() {
    document.querySelectorAll("figure.chart").forEach(function (fig) {
      try { draw(fig); } catch (e) { fig.dataset.drawn = "error"; throw e; }
    });
    document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
    document.querySelectorAll("[data-confirm]").forEach(function (el) {
      el.addEventListener("submit", function (ev) {
        if (!window.confirm(el.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
    var form = document.getElementById("signin-form");
    var m = /[#&]token=([^&]+)/.exec(window.location.hash || "");
    if (form && m) {
      form.querySelector("input[name=token]").value = decodeURIComponent(m[1]);
      history.replaceState(null, "", window.location.pathname + window.location.search);
      form.submit();
    }
    var filter = document.querySelectorAll("input[data-filter]");
    filter.forEach(function (input) {
      var target = document.getElementById(input.getAttribute("data-filter"));
      input.addEventListener("input", function () {
        var q = input.value.toLowerCase();
        target.querySelectorAll("[data-line]").forEach(function (row) {
          row.hidden = q !== "" && row.textContent.toLowerCase().indexOf(q) < 0;
        });
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

/* Alarms pages: the charts inside an element with data-x-min and data-x-max (UNIX seconds)
   span that time range (the page's), not only their data, so an alarm's metric chart, its
   shaded ALARM spans and its state chart line up over the same hours. */
(function () {
  "use strict";
  function spanRange() {
    document.querySelectorAll("[data-x-min][data-x-max]").forEach(function (box) {
      var min = parseFloat(box.getAttribute("data-x-min"));
      var max = parseFloat(box.getAttribute("data-x-max"));
      if (!(min < max)) return;
      box.querySelectorAll("figure.chart").forEach(function (fig) {
        if (fig._plot) fig._plot.setScale("x", { min: min, max: max });
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", spanRange);
  else spanRange();
})();
