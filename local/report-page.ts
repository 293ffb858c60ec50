/**
 * The report page: HTML, CSS and a small script that draws SVG charts from the embedded data.
 * Everything is inline, so the file opens anywhere without a network (and without a server).
 */
import type { ReportData } from './report';
import { issueSeries } from './summary';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON safe inside a <script> element (no `</script>`, no HTML comment openers). */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const STYLE = `
:root { --ink:#1d2430; --muted:#667085; --line:#e4e7ec; --bg:#f7f8fa; --card:#fff; --accent:#2f6fdf; --good:#0f7b3e; --bad:#b42318; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif; color:var(--ink); background:var(--bg); }
header { background:#14213d; color:#fff; padding:20px 32px; }
header h1 { margin:0 0 6px; font-size:22px; font-weight:600; }
header .facts { display:flex; flex-wrap:wrap; gap:6px 22px; color:#c9d3e6; font-size:13px; }
header .facts b { color:#fff; font-weight:600; }
.badge { display:inline-block; padding:2px 10px; border-radius:999px; font-size:12px; font-weight:700; letter-spacing:.03em; vertical-align:middle; margin-left:10px; }
.badge.SUCCEEDED { background:#d1fadf; color:#05603a; } .badge.PARTIAL { background:#fef0c7; color:#93370d; } .badge.FAILED { background:#fee4e2; color:#912018; }
main { padding:20px 32px 40px; max-width:1500px; margin:0 auto; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px 22px; margin-bottom:20px; }
h2 { margin:0 0 4px; font-size:17px; } .hint { color:var(--muted); margin:0 0 14px; font-size:13px; }
table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
th, td { padding:6px 10px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th:first-child, td:first-child { text-align:left; }
thead th { font-size:12px; color:var(--muted); font-weight:600; }
thead tr.group th { color:var(--ink); border-bottom:none; text-align:center; }
td.best { color:var(--good); font-weight:700; }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:7px; vertical-align:0; }
/* The table keeps its natural width; the charts sit beside it only where both fit, else below it
   (flex-wrap breaks the line on the table's full width, so they never overlap). */
.comparison { display:flex; flex-wrap:wrap; gap:22px; align-items:flex-start; }
.comparison .table-holder { flex:0 1 auto; max-width:100%; overflow-x:auto; }
.bars { flex:1 1 560px; min-width:min(560px, 100%); max-width:900px; display:grid; grid-template-columns:1fr 1fr; gap:12px; }
.controls { display:flex; gap:10px; align-items:center; flex-wrap:wrap; margin-bottom:12px; }
select, button { font:inherit; padding:5px 10px; border:1px solid #cfd4dc; border-radius:6px; background:#fff; color:var(--ink); }
select { min-width:240px; } button { cursor:pointer; } button:hover { background:#f2f4f7; }
.legend { display:flex; gap:14px; flex-wrap:wrap; color:var(--muted); font-size:12px; margin-left:auto; }
.legend span { display:inline-flex; align-items:center; gap:5px; }
.fans { display:grid; grid-template-columns:repeat(auto-fill, minmax(420px, 1fr)); gap:14px; margin-top:14px; }
.fan-card { border:1px solid var(--line); border-radius:8px; padding:8px 10px 4px; }
.fan-card h3 { margin:0; font-size:14px; display:flex; justify-content:space-between; align-items:baseline; }
.fan-card h3 small { color:var(--muted); font-weight:400; font-size:12px; }
svg { display:block; width:100%; height:auto; overflow:visible; }
svg text { font-size:11px; fill:var(--muted); }
svg .axis line, svg .grid line { stroke:var(--line); }
svg .cutoff { stroke:#98a2b3; stroke-dasharray:4 3; }
svg .promo { fill:#fdb022; opacity:.14; }
svg .history { fill:none; stroke:#475467; stroke-width:1.3; }
svg .actual-line { fill:none; stroke:#101828; stroke-width:1; opacity:.5; }
svg .actual { fill:#101828; }
svg .p50 { fill:none; stroke-width:2; }
svg .mean { fill:none; stroke-width:1.2; stroke-dasharray:3 3; }
svg .band { stroke:none; }
svg .bar-label { font-size:10px; fill:var(--ink); }
.tooltip { position:fixed; pointer-events:none; background:#101828; color:#fff; font-size:12px; padding:6px 9px; border-radius:6px; display:none; z-index:10; white-space:nowrap; }
.tooltip div { display:flex; gap:10px; justify-content:space-between; }
footer { color:var(--muted); font-size:12px; padding:0 32px 30px; max-width:1500px; margin:0 auto; }
code { background:#f2f4f7; padding:1px 5px; border-radius:4px; font-size:12px; }
@media (max-width: 900px) { .comparison { grid-template-columns:1fr; } main, header { padding-left:14px; padding-right:14px; } }
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var SVG = 'http://www.w3.org/2000/svg';
  var PALETTE = ['#2f6fdf', '#e8590c', '#12b886', '#c2255c', '#7048e8', '#0c8599', '#e67700', '#5c940d'];
  var DAY = 86400000;
  var color = {};
  data.models.forEach(function (m, i) { color[m] = PALETTE[i % PALETTE.length]; });

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }
  function h(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (digits !== undefined) return v.toFixed(digits);
    return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
  }
  function tickLabel(t) { return Number.isInteger(t) ? String(t) : String(+t.toPrecision(3)); }
  function day(t) { var d = new Date(t); return d.toISOString().slice(0, 10); }
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function shortDate(t) { var d = new Date(t); return MONTHS[d.getUTCMonth()] + ' ' + d.getUTCDate(); }

  // ---------- metrics ----------
  var metricIndex = {};
  data.metrics.forEach(function (m) {
    var key = m.model + '|' + m.source + '|' + m.metric + '|' + (m.forecastType || '');
    metricIndex[key] = m.value;
  });
  function metric(model, source, name, type) { return metricIndex[model + '|' + source + '|' + name + '|' + (type || '')]; }
  var COLUMNS = [
    ['BACKTEST', 'AVG_WQL', 'avg wQL'], ['BACKTEST', 'WAPE', 'WAPE'], ['BACKTEST', 'RMSE', 'RMSE'], ['BACKTEST', 'MAPE', 'MAPE'], ['BACKTEST', 'MASE', 'MASE'],
    ['REALISED', 'AVG_WQL', 'avg wQL'], ['REALISED', 'WAPE', 'WAPE'], ['REALISED', 'RMSE', 'RMSE'], ['REALISED', 'MAPE', 'MAPE']
  ].filter(function (c) { return data.models.some(function (m) { return metric(m, c[0], c[1]) !== undefined; }); });

  function metricsTable() {
    var table = document.getElementById('metrics-table');
    var thead = h('thead');
    var group = h('tr', { class: 'group' });
    group.appendChild(h('th'));
    var groups = [['BACKTEST', 'Backtest (training data)'], ['REALISED', 'Validation (actuals after the cut-off)']];
    groups.forEach(function (g) {
      var n = COLUMNS.filter(function (c) { return c[0] === g[0]; }).length;
      if (n > 0) { var th = h('th', { colspan: n }, g[1]); group.appendChild(th); }
    });
    thead.appendChild(group);
    var head = h('tr');
    head.appendChild(h('th', {}, 'model'));
    COLUMNS.forEach(function (c) { head.appendChild(h('th', {}, c[2])); });
    thead.appendChild(head);
    table.appendChild(thead);
    var best = COLUMNS.map(function (c) {
      var values = data.models.map(function (m) { return metric(m, c[0], c[1]); }).filter(function (v) { return v !== undefined; });
      return values.length > 1 ? Math.min.apply(null, values) : undefined;
    });
    var body = h('tbody');
    data.models.forEach(function (m) {
      var tr = h('tr');
      var name = h('td');
      var sw = h('span', { class: 'swatch', style: 'background:' + color[m] });
      name.appendChild(sw); name.appendChild(document.createTextNode(m));
      tr.appendChild(name);
      COLUMNS.forEach(function (c, i) {
        var v = metric(m, c[0], c[1]);
        tr.appendChild(h('td', best[i] !== undefined && v === best[i] ? { class: 'best' } : {}, fmt(v, c[1] === 'RMSE' ? 2 : 3)));
      });
      body.appendChild(tr);
    });
    data.run.failedModels.forEach(function (m) {
      if (data.models.indexOf(m) >= 0) return;
      var tr = h('tr');
      tr.appendChild(h('td', {}, m));
      var td = h('td', { colspan: COLUMNS.length, style: 'text-align:left;color:#b42318' }, 'failed: no forecast');
      tr.appendChild(td);
      body.appendChild(tr);
    });
    table.appendChild(body);
  }

  function barChart(container, title, name) {
    var sources = [['BACKTEST', 'backtest'], ['REALISED', 'validation']].filter(function (s) {
      return data.models.some(function (m) { return metric(m, s[0], name) !== undefined; });
    });
    var W = 320, ml = 40, mr = 8, mt = 26, plotH = 150;
    var svg = el('svg', { class: 'bar-chart', role: 'img', 'aria-label': title });
    container.appendChild(svg);
    // Text widths in the chart's own units (the SVG is in the page, so it can measure).
    var measure = function (text, cls) { var t = el('text', cls ? { class: cls } : {}, svg); t.textContent = text; var w = t.getComputedTextLength(); svg.removeChild(t); return w; };
    var groupW = (W - ml - mr) / Math.max(1, data.models.length);
    var barW = Math.min(26, (groupW - 10) / Math.max(1, sources.length));
    // Model names that do not fit under their group are turned, by the least angle at which each
    // label's whole box (not only its baseline) stays within its group, and the chart grows to hold them.
    var widest = Math.max.apply(null, data.models.map(function (m) { return measure(m); }).concat([0]));
    var LINE = 12;
    var turned = widest > groupW - 4;
    var rad = function (deg) { return deg * Math.PI / 180; };
    var ANGLE = [30, 40, 50, 60, 70, 80, 90].filter(function (a) { return widest * Math.cos(rad(a)) + LINE * Math.sin(rad(a)) <= groupW - 2; })[0] || 90;
    var labelDepth = turned ? Math.ceil(widest * Math.sin(rad(ANGLE)) + LINE * Math.cos(rad(ANGLE))) + 18 : 16;
    var mb = labelDepth + 18;
    var H = mt + plotH + mb;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    el('text', { x: 0, y: 14, style: 'font-size:13px;font-weight:600;fill:#1d2430' }, svg).textContent = title;
    var max = 0;
    data.models.forEach(function (m) { sources.forEach(function (s) { var v = metric(m, s[0], name); if (v !== undefined && v > max) max = v; }); });
    if (max <= 0) max = 1;
    var ticks = niceTicks(0, max * 1.1, 4);
    var top = ticks[ticks.length - 1];
    var y = function (v) { return H - mb - (v / top) * (H - mt - mb); };
    ticks.forEach(function (t) {
      el('line', { x1: ml, x2: W - mr, y1: y(t), y2: y(t), stroke: '#e4e7ec' }, svg);
      el('text', { x: ml - 5, y: y(t) + 3, 'text-anchor': 'end' }, svg).textContent = tickLabel(t);
    });
    // Value labels above the bars only where each fits over its own bar (the table has every value).
    var valueLabels = data.models.every(function (m) {
      return sources.every(function (s) { var v = metric(m, s[0], name); return v === undefined || measure(fmt(v, 2), 'bar-label') <= barW; });
    });
    data.models.forEach(function (m, i) {
      var x0 = ml + i * groupW + (groupW - barW * sources.length) / 2;
      sources.forEach(function (s, j) {
        var v = metric(m, s[0], name);
        if (v === undefined) return;
        var bar = el('rect', { x: x0 + j * barW, y: y(v), width: barW - 2, height: Math.max(0, H - mb - y(v)), fill: color[m], opacity: j === 0 ? 1 : 0.45, class: 'bar' }, svg);
        el('title', {}, bar).textContent = m + ' ' + s[1] + ': ' + fmt(v, 3);
        if (valueLabels) el('text', { x: x0 + j * barW + (barW - 2) / 2, y: y(v) - 3, 'text-anchor': 'middle', class: 'bar-label' }, svg).textContent = fmt(v, 2);
      });
      var cx = ml + i * groupW + groupW / 2;
      var label = turned
        ? el('text', { x: cx, y: H - mb + 16, 'text-anchor': 'end', transform: 'rotate(-' + ANGLE + ' ' + cx + ' ' + (H - mb + 16) + ')', class: 'model-label' }, svg)
        : el('text', { x: cx, y: H - mb + 14, 'text-anchor': 'middle', class: 'model-label' }, svg);
      label.textContent = m;
    });
    var lx = ml;
    sources.forEach(function (s, j) {
      el('rect', { x: lx, y: H - 10, width: 10, height: 8, fill: '#667085', opacity: j === 0 ? 1 : 0.45 }, svg);
      el('text', { x: lx + 14, y: H - 3 }, svg).textContent = s[1];
      lx += 90;
    });
  }

  function quantileTable() {
    var types = data.forecastTypes.filter(function (t) { return t !== 'mean'; });
    var table = document.getElementById('wql-table');
    var rows = data.models.filter(function (m) { return types.some(function (t) { return metric(m, 'BACKTEST', 'WQL', t) !== undefined; }); });
    if (rows.length === 0) { table.parentNode.style.display = 'none'; return; }
    var thead = h('thead'); var tr = h('tr');
    tr.appendChild(h('th', {}, 'model'));
    types.forEach(function (t) { tr.appendChild(h('th', {}, 'wQL[' + t + ']')); });
    thead.appendChild(tr); table.appendChild(thead);
    var body = h('tbody');
    rows.forEach(function (m) {
      var r = h('tr'); r.appendChild(h('td', {}, m));
      types.forEach(function (t) { r.appendChild(h('td', {}, fmt(metric(m, 'BACKTEST', 'WQL', t), 3))); });
      body.appendChild(r);
    });
    table.appendChild(body);
  }

  // ---------- charts ----------
  function niceTicks(lo, hi, count) {
    var span = hi - lo || 1;
    var step = Math.pow(10, Math.floor(Math.log10(span / count)));
    var err = (span / count) / step;
    step *= err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1;
    var ticks = [];
    for (var t = Math.floor(lo / step) * step; t <= hi + step * 0.5; t += step) ticks.push(Math.round(t * 1e9) / 1e9);
    if (ticks[ticks.length - 1] < hi) ticks.push(ticks[ticks.length - 1] + step);
    return ticks;
  }
  function quantileTypes() {
    return data.forecastTypes.filter(function (t) { return /^p\d+$/.test(t); }).sort(function (a, b) { return +a.slice(1) - +b.slice(1); });
  }
  function medianType() {
    var q = quantileTypes();
    if (q.indexOf('p50') >= 0) return 'p50';
    return q.length ? q[Math.floor(q.length / 2)] : 'mean';
  }
  function linePath(ts, vs, x, y) {
    var d = '', pen = false;
    for (var i = 0; i < ts.length; i++) {
      var v = vs[i];
      if (v === null || v === undefined) { pen = false; continue; }
      d += (pen ? 'L' : 'M') + x(ts[i]).toFixed(1) + ',' + y(v).toFixed(1);
      pen = true;
    }
    return d;
  }
  function bandPath(ts, lo, hi, x, y) {
    var up = [], down = [];
    for (var i = 0; i < ts.length; i++) {
      if (lo[i] === null || hi[i] === null) continue;
      up.push(x(ts[i]).toFixed(1) + ',' + y(hi[i]).toFixed(1));
      down.unshift(x(ts[i]).toFixed(1) + ',' + y(lo[i]).toFixed(1));
    }
    return up.length ? 'M' + up.join('L') + 'L' + down.join('L') + 'Z' : '';
  }
  function itemMax(item, bands) {
    var max = 0;
    function take(v) { if (v !== null && v > max) max = v; }
    item.history.v.forEach(take); item.actuals.v.forEach(take);
    var q = quantileTypes();
    var top = bands && q.length ? q[q.length - 1] : medianType();
    Object.keys(item.forecasts).forEach(function (m) { (item.forecasts[m].values[top] || []).forEach(take); (item.forecasts[m].values.mean || []).forEach(take); });
    return max || 1;
  }

  /** One chart: history, cut-off, promotions, validation actuals and the given models' forecasts. */
  function chart(item, models, opts) {
    var W = opts.width, H = opts.height, ml = 44, mr = 10, mt = 8, mb = 22;
    var svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart ' + (opts.kind || ''), role: 'img', 'aria-label': opts.label || item.id });
    var t0 = item.history.t.length ? item.history.t[0] : data.run.forecastStart;
    var t1 = data.run.forecastStart;
    models.forEach(function (m) { var f = item.forecasts[m]; if (f && f.t.length) t1 = Math.max(t1, f.t[f.t.length - 1]); });
    item.actuals.t.forEach(function (t) { if (t > t1) t1 = t; });
    if (opts.zoom) t0 = Math.max(t0, data.run.forecastStart - (t1 - data.run.forecastStart) * 2);
    var yTicks = niceTicks(0, opts.yMax * 1.04, 4);
    var yTop = yTicks[yTicks.length - 1];
    var x = function (t) { return ml + ((t - t0) / Math.max(1, t1 - t0)) * (W - ml - mr); };
    var y = function (v) { return H - mb - (Math.max(0, v) / yTop) * (H - mt - mb); };
    var grid = el('g', { class: 'grid' }, svg);
    yTicks.forEach(function (t) {
      el('line', { x1: ml, x2: W - mr, y1: y(t), y2: y(t) }, grid);
      el('text', { x: ml - 6, y: y(t) + 3.5, 'text-anchor': 'end' }, grid).textContent = tickLabel(t);
    });
    // x ticks on month starts (or every week for short windows)
    var span = t1 - t0, d = new Date(t0), ticks = [];
    if (span > 70 * DAY) {
      var m0 = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      for (var t = m0; t <= t1; ) { ticks.push(t); var dd = new Date(t); t = Date.UTC(dd.getUTCFullYear(), dd.getUTCMonth() + 1, 1); }
    } else {
      for (var w = t0 + ((8 - new Date(t0).getUTCDay()) % 7) * DAY; w <= t1; w += 7 * DAY) ticks.push(w);
    }
    var axis = el('g', { class: 'axis' }, svg);
    ticks.forEach(function (t) {
      el('line', { x1: x(t), x2: x(t), y1: H - mb, y2: H - mb + 4 }, axis);
      el('text', { x: x(t), y: H - 6, 'text-anchor': 'middle' }, axis).textContent = span > 70 * DAY ? MONTHS[new Date(t).getUTCMonth()] : shortDate(t);
    });
    var dayW = Math.max(1, x(t0 + DAY) - x(t0));
    item.promo.forEach(function (t) { if (t >= t0 && t <= t1) el('rect', { x: x(t) - dayW / 2, y: mt, width: dayW, height: H - mt - mb, class: 'promo' }, svg); });
    el('line', { x1: x(data.run.forecastStart), x2: x(data.run.forecastStart), y1: mt, y2: H - mb, class: 'cutoff' }, svg);
    var q = quantileTypes();
    models.forEach(function (m) {
      var f = item.forecasts[m];
      if (!f) return;
      if (opts.bands) {
        for (var i = 0; i < Math.floor(q.length / 2); i++) {
          var lo = f.values[q[i]], hi = f.values[q[q.length - 1 - i]];
          el('path', { d: bandPath(f.t, lo, hi, x, y), class: 'band band-' + i, fill: color[m], 'fill-opacity': i === 0 ? 0.16 : 0.28 }, svg);
        }
        if (f.values.mean && opts.showMean) el('path', { d: linePath(f.t, f.values.mean, x, y), class: 'mean', stroke: color[m] }, svg);
      }
      var med = f.values[medianType()] || f.values.mean;
      if (med) el('path', { d: linePath(f.t, med, x, y), class: 'p50', stroke: color[m], 'data-model': m }, svg);
    });
    var past = item.history;
    var shownPast = opts.zoom ? past.v.map(function (v, i) { return past.t[i] >= t0 ? v : null; }) : past.v;
    el('path', { d: linePath(past.t, shownPast, x, y), class: 'history' }, svg);
    el('path', { d: linePath(item.actuals.t, item.actuals.v, x, y), class: 'actual-line' }, svg);
    item.actuals.t.forEach(function (t, i) {
      if (item.actuals.v[i] !== null) el('circle', { cx: x(t), cy: y(item.actuals.v[i]), r: 1.9, class: 'actual' }, svg);
    });
    if (opts.tooltip) attachTooltip(svg, item, models, x, t0, t1, W, ml, mr);
    return svg;
  }

  var tooltip = document.getElementById('tooltip');
  function valueAt(series, t) { var i = series.t.indexOf(t); return i < 0 ? undefined : series.v[i]; }
  function attachTooltip(svg, item, models, x, t0, t1, W, ml, mr) {
    var guide = el('line', { y1: 0, y2: 1000, stroke: '#98a2b3', 'stroke-width': 1, visibility: 'hidden' }, svg);
    svg.addEventListener('mousemove', function (event) {
      var box = svg.getBoundingClientRect();
      var px = ((event.clientX - box.left) / box.width) * W;
      var t = t0 + ((px - ml) / (W - ml - mr)) * (t1 - t0);
      t = Math.round(t / DAY) * DAY;
      if (t < t0 || t > t1) { tooltip.style.display = 'none'; guide.setAttribute('visibility', 'hidden'); return; }
      guide.setAttribute('x1', x(t)); guide.setAttribute('x2', x(t)); guide.setAttribute('visibility', 'visible');
      var lines = ['<b>' + day(t) + '</b>'];
      var a = valueAt(item.history, t); if (a === undefined) a = valueAt(item.actuals, t);
      if (a !== undefined) lines.push('<div><span>actual</span><span>' + fmt(a) + '</span></div>');
      models.forEach(function (m) {
        var f = item.forecasts[m]; if (!f) return;
        var i = f.t.indexOf(t); if (i < 0) return;
        var med = (f.values[medianType()] || f.values.mean)[i];
        lines.push('<div><span style="color:' + color[m] + '">' + m + ' ' + medianType() + '</span><span>' + fmt(med) + '</span></div>');
      });
      if (item.promo.indexOf(t) >= 0) lines.push('<div><span>promotion</span><span>yes</span></div>');
      tooltip.innerHTML = lines.join('');
      tooltip.style.display = 'block';
      tooltip.style.left = event.clientX + 14 + 'px';
      tooltip.style.top = event.clientY + 10 + 'px';
    });
    svg.addEventListener('mouseleave', function () { tooltip.style.display = 'none'; guide.setAttribute('visibility', 'hidden'); });
  }

  /** Accuracy of one model on one item's validation actuals (WAPE of the median, wQL over quantiles). */
  function itemAccuracy(item, m) {
    var f = item.forecasts[m]; if (!f) return {};
    var med = f.values[medianType()] || f.values.mean;
    var absErr = 0, absAct = 0, ql = 0, n = 0, q = quantileTypes();
    f.t.forEach(function (t, i) {
      var a = valueAt(item.actuals, t);
      if (a === undefined || a === null || med[i] === null) return;
      absErr += Math.abs(a - med[i]); absAct += Math.abs(a); n++;
      q.forEach(function (type) {
        var tau = +type.slice(1) / 100, p = f.values[type][i];
        if (p === null) return;
        ql += 2 * (a >= p ? tau * (a - p) : (1 - tau) * (p - a)) / q.length;
      });
    });
    return n === 0 || absAct === 0 ? {} : { wape: absErr / absAct, wql: ql / absAct };
  }

  var select = document.getElementById('item-select');
  function renderItem(index) {
    var item = data.items[index];
    if (!item) return;
    select.selectedIndex = index;
    var models = data.models.filter(function (m) { return item.forecasts[m]; });
    var yMax = itemMax(item, true);
    var overlay = document.getElementById('overlay');
    overlay.innerHTML = '';
    overlay.appendChild(chart(item, models, { width: 1100, height: 300, yMax: itemMax(item, false), bands: false, tooltip: true, kind: 'overlay', label: item.id + ': all models' }));
    var fans = document.getElementById('fans');
    fans.innerHTML = '';
    models.forEach(function (m) {
      var card = h('div', { class: 'fan-card', 'data-model': m });
      var title = h('h3');
      var name = h('span');
      name.appendChild(h('span', { class: 'swatch', style: 'background:' + color[m] }));
      name.appendChild(document.createTextNode(m));
      title.appendChild(name);
      var acc = itemAccuracy(item, m);
      title.appendChild(h('small', {}, acc.wape === undefined ? 'no validation actuals' : 'validation WAPE ' + fmt(acc.wape, 3) + ' · wQL ' + fmt(acc.wql, 3)));
      card.appendChild(title);
      card.appendChild(chart(item, [m], { width: 520, height: 220, yMax: yMax, bands: true, showMean: true, zoom: true, kind: 'fan', label: item.id + ': ' + m + ' forecast with quantile bands' }));
      fans.appendChild(card);
    });
    document.getElementById('item-facts').textContent = item.history.t.length + ' history points shown · ' + item.actuals.t.length + ' validation actuals · ' + item.promo.length + ' promotion days in view';
    if (location.hash.slice(1) !== encodeURIComponent(item.id)) history.replaceState(null, '', '#' + encodeURIComponent(item.id));
  }

  function legend() {
    var q = quantileTypes();
    var box = document.getElementById('legend');
    var entries = [['#475467', 'history'], ['#101828', 'validation actuals'], ['#fdb022', 'promotion']];
    if (q.length >= 2) entries.push(['#2f6fdf', q[0] + '–' + q[q.length - 1] + ' band']);
    entries.push(['#2f6fdf', medianType() + ' (median)']);
    entries.forEach(function (e) { var s = h('span'); s.appendChild(h('span', { class: 'swatch', style: 'background:' + e[0] })); s.appendChild(document.createTextNode(e[1])); box.appendChild(s); });
  }

  metricsTable();
  barChart(document.getElementById('bar-wql'), 'Average wQL (lower is better)', 'AVG_WQL');
  barChart(document.getElementById('bar-wape'), 'WAPE (lower is better)', 'WAPE');
  quantileTable();
  legend();
  data.items.forEach(function (item, i) { select.appendChild(h('option', { value: String(i) }, item.id)); });
  select.addEventListener('change', function () { renderItem(select.selectedIndex); });
  document.getElementById('prev').addEventListener('click', function () { renderItem((select.selectedIndex - 1 + data.items.length) % data.items.length); });
  document.getElementById('next').addEventListener('click', function () { renderItem((select.selectedIndex + 1) % data.items.length); });
  var start = 0;
  var wanted = decodeURIComponent(location.hash.slice(1));
  data.items.forEach(function (item, i) { if (item.id === wanted) start = i; });
  if (data.items.length) renderItem(start);
  else document.getElementById('explorer').appendChild(h('p', { class: 'hint' }, 'This run has no forecasts to show.'));
  document.body.setAttribute('data-ready', 'true');
})();
`;

/** The complete HTML document of a run report. */
/** The run's data issues under the header: quarantined series (each with its reason) and warnings. */
function dataIssuesHtml(issues: ReportData['run']['dataIssues']): string {
  if (issues.length === 0) return '';
  const quarantined = issues.filter((i) => i.issue === 'QUARANTINED');
  const warnings = issues.filter((i) => i.issue !== 'QUARANTINED');
  const parts: string[] = [];
  for (const w of warnings) parts.push(`<div class="facts" style="margin-top:6px"><span>warning <b>${escapeHtml(w.reason)}</b></span></div>`);
  if (quarantined.length > 0) {
    const rows = quarantined.map((q) => `<li><b>${escapeHtml(issueSeries(q))}</b>: ${escapeHtml(q.reason)}</li>`).join('');
    parts.push(
      `<details id="quarantined" class="facts" style="margin-top:6px"><summary>quarantined <b>${quarantined.length} item${quarantined.length === 1 ? '' : 's'}</b> left out of the run</summary><ul>${rows}</ul></details>`,
    );
  }
  return parts.join('\n  ');
}

export function renderReportPage(data: ReportData): string {
  const run = data.run;
  const title = `Forecast run ${run.runId}`;
  const cutOff = new Date(run.forecastStart).toISOString().slice(0, 10);
  const horizon = Math.max(0, ...data.items.map((i) => Math.max(0, ...Object.values(i.forecasts).map((f) => f.t.length))));
  const facts: [string, string][] = [
    ['dataset', run.dataName],
    ['cut-off', cutOff],
    ['horizon', `${horizon} periods`],
    ['items', data.items.length === run.itemsTotal ? String(run.itemsTotal) : `${data.items.length} shown of ${run.itemsTotal}`],
    ['models', data.models.join(', ') || '–'],
    ['generated', run.generatedAt.replace('T', ' ').slice(0, 19) + ' UTC'],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(title)}<span class="badge ${escapeHtml(run.status)}">${escapeHtml(run.status)}</span></h1>
  <div class="facts">${facts.map(([k, v]) => `<span>${escapeHtml(k)} <b>${escapeHtml(v)}</b></span>`).join('')}</div>
  ${run.reason ? `<div class="facts" style="margin-top:6px"><span>reason <b>${escapeHtml(run.reason)}</b></span></div>` : ''}
  ${run.cleanupError ? `<div class="facts" style="margin-top:6px"><span>cleanup failed <b>${escapeHtml(run.cleanupError)}</b></span></div>` : ''}
  ${dataIssuesHtml(run.dataIssues)}
</header>
<main>
<section id="comparison">
  <h2>Model comparison</h2>
  <p class="hint">Backtest metrics come from the predictors' backtest windows on the training data, as the Forecast backend computed them (on the values it was given: transformed by parse when a transform such as log1p is configured); validation metrics compare each forecast, back on the original scale, with the actuals after the cut-off. Lower is better; the best value per column is green.</p>
  <div class="comparison">
    <div class="table-holder"><table id="metrics-table"></table></div>
    <div class="bars"><div id="bar-wql"></div><div id="bar-wape"></div></div>
  </div>
</section>
<section id="explorer">
  <h2>Forecasts by item</h2>
  <p class="hint">History before the cut-off (grey line; the dashed line marks the cut-off), the validation actuals after it (dots), each model's median and its quantile bands; promotion days are shaded. Hover the top chart for values.</p>
  <div class="controls">
    <label for="item-select">Item</label>
    <select id="item-select"></select>
    <button id="prev" type="button" title="previous item">◀</button>
    <button id="next" type="button" title="next item">▶</button>
    <span class="hint" id="item-facts" style="margin:0"></span>
    <div class="legend" id="legend"></div>
  </div>
  <div id="overlay"></div>
  <div class="fans" id="fans"></div>
</section>
<section>
  <h2>Weighted quantile loss per quantile (backtest)</h2>
  <p class="hint">How well each quantile is calibrated: wQL[τ] = 2 Σ quantile loss / Σ |actual|.</p>
  <table id="wql-table"></table>
</section>
</main>
<footer>Written by <code>forecast-pipeline report</code> from the warehouse tables of run <code>${escapeHtml(run.runId)}</code> (forecasts, metrics, run status) and the input queries. Self-contained: no network needed.</footer>
<div class="tooltip" id="tooltip"></div>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
