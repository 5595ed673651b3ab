// A tiny SVG line chart (no library): points [{ t, v }] with t in ms; y from 0 to the largest value.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const clock = (t) => new Date(t).toLocaleTimeString();

/** The chart as an <svg class="chart">; `label` names the series for screen readers. */
export function lineChart(points, { width = 720, height = 220, label = 'series' } = {}) {
  const pad = { l: 56, r: 12, t: 12, b: 28 };
  const svg = el('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  const w = width - pad.l - pad.r, h = height - pad.t - pad.b;
  const max = Math.max(1, ...points.map((p) => p.v));
  const t0 = points.length ? points[0].t : 0;
  const t1 = points.length ? points[points.length - 1].t : 1;
  const x = (t) => pad.l + (t1 === t0 ? w : ((t - t0) / (t1 - t0)) * w);
  const y = (v) => pad.t + h - (v / max) * h;
  for (const f of [0, 0.5, 1]) {
    const v = Math.round(max * f);
    svg.append(el('line', { class: 'grid', x1: pad.l, x2: pad.l + w, y1: y(v), y2: y(v) }));
    svg.append(el('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  if (points.length === 0) {
    svg.append(el('text', { x: pad.l + w / 2, y: pad.t + h / 2, 'text-anchor': 'middle' }, 'no samples yet'));
    return svg;
  }
  svg.append(el('text', { x: pad.l, y: height - 8 }, clock(t0)));
  svg.append(el('text', { x: pad.l + w, y: height - 8, 'text-anchor': 'end' }, clock(t1)));
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  svg.append(el('path', { class: 'line', d, 'data-points': points.length }));
  for (const p of points.length <= 60 ? points : []) {
    const c = el('circle', { cx: x(p.t), cy: y(p.v), r: 2.5, fill: 'currentColor', class: 'point' });
    c.append(el('title', {}, `${clock(p.t)}: ${p.v}`));
    svg.append(c);
  }
  return svg;
}
