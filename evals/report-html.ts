import { perCaseQuality } from './aggregate.js';
import { fmtMs, fmtNum, fmtQ, keyFindings, SIMULATED_BANNER } from './findings.js';
import {
  comparisonHead,
  comparisonRows,
  evalTitle,
  readingNotes,
  settingsRows,
  summaryHead,
  summaryRows,
} from './report-md.js';
import type { EvalResults, SummaryEntry } from './results-schema.js';

/**
 * `report.html`: one self-contained page — inline CSS and inline SVG generated here, no scripts, fonts, images
 * or any other request — so it opens from disk with no network. Charts: quality vs latency (p50, with the
 * quality CI as error bars and a whisker to p95), tokens and model calls per variant, and a heat map of
 * quality per case × variant.
 */

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const colour = (i: number) => palette[i % palette.length]!;

/** A red (0) → yellow → green (1) colour for a quality score. */
export function qualityColour(q: number): string {
  const clamped = Math.min(1, Math.max(0, q));
  return `hsl(${Math.round(clamped * 120)}, 70%, ${Math.round(42 + 8 * (1 - Math.abs(clamped - 0.5) * 2))}%)`;
}

/** "Nice" axis ticks from 0 (or `min`) up to at least `max`. */
function ticks(min: number, max: number, count = 5): number[] {
  const span = Math.max(max - min, 1e-9);
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 0.999; v += step)
    out.push(Number(v.toFixed(10)));
  return out;
}

const n = (x: number) => x.toFixed(1);

function svgText(x: number, y: number, text: string, attrs = ''): string {
  return `<text x="${n(x)}" y="${n(y)}" ${attrs}>${escapeHtml(text)}</text>`;
}

export function scatterChart(summary: SummaryEntry[]): string {
  const W = 720;
  const H = 400;
  const m = { left: 60, right: 180, top: 20, bottom: 50 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xMax = Math.max(1, ...summary.map((s) => s.latencyMs.p95));
  const xt = ticks(0, xMax);
  const x1 = xt.at(-1)!;
  const lo = Math.min(...summary.map((s) => s.quality.ci95[0]));
  const hi = Math.max(...summary.map((s) => s.quality.ci95[1]));
  const y0 = Math.max(0, Math.floor((lo - 0.05) * 10) / 10);
  const y1 = Math.min(1, Math.ceil((hi + 0.05) * 10) / 10);
  const yt = ticks(y0, y1).filter((t) => t >= y0 - 1e-9 && t <= y1 + 1e-9);
  const X = (v: number) => m.left + (v / x1) * pw;
  const Y = (v: number) => m.top + ph - ((v - y0) / Math.max(y1 - y0, 1e-9)) * ph;
  const parts: string[] = [];
  for (const t of xt) {
    parts.push(`<line x1="${n(X(t))}" y1="${m.top}" x2="${n(X(t))}" y2="${m.top + ph}" class="grid"/>`);
    parts.push(svgText(X(t), m.top + ph + 18, fmtMs(t), 'text-anchor="middle"'));
  }
  for (const t of yt) {
    parts.push(`<line x1="${m.left}" y1="${n(Y(t))}" x2="${m.left + pw}" y2="${n(Y(t))}" class="grid"/>`);
    parts.push(svgText(m.left - 8, Y(t) + 4, t.toFixed(2), 'text-anchor="end"'));
  }
  parts.push(
    svgText(m.left + pw / 2, H - 8, 'latency p50 (whisker to p95)', 'text-anchor="middle" class="axis"'),
  );
  parts.push(
    svgText(
      16,
      m.top + ph / 2,
      'quality (95% CI)',
      `text-anchor="middle" class="axis" transform="rotate(-90 16 ${n(m.top + ph / 2)})"`,
    ),
  );
  summary.forEach((s, i) => {
    const cx = X(s.latencyMs.p50);
    const cy = Y(s.quality.mean);
    const c = colour(i);
    parts.push(
      `<g><title>${escapeHtml(`${s.variant}: quality ${fmtQ(s.quality.mean)} [${fmtQ(s.quality.ci95[0])}, ${fmtQ(s.quality.ci95[1])}], p50 ${fmtMs(s.latencyMs.p50)}, p95 ${fmtMs(s.latencyMs.p95)}`)}</title>` +
        `<line x1="${n(cx)}" y1="${n(cy)}" x2="${n(X(s.latencyMs.p95))}" y2="${n(cy)}" stroke="${c}" stroke-dasharray="4 3" opacity="0.6"/>` +
        `<line x1="${n(cx)}" y1="${n(Y(s.quality.ci95[0]))}" x2="${n(cx)}" y2="${n(Y(s.quality.ci95[1]))}" stroke="${c}" stroke-width="2"/>` +
        `<line x1="${n(cx - 5)}" y1="${n(Y(s.quality.ci95[0]))}" x2="${n(cx + 5)}" y2="${n(Y(s.quality.ci95[0]))}" stroke="${c}" stroke-width="2"/>` +
        `<line x1="${n(cx - 5)}" y1="${n(Y(s.quality.ci95[1]))}" x2="${n(cx + 5)}" y2="${n(Y(s.quality.ci95[1]))}" stroke="${c}" stroke-width="2"/>` +
        `<circle cx="${n(cx)}" cy="${n(cy)}" r="6" fill="${c}"/></g>`,
    );
    // Legend on the right: points may overlap, the legend never does.
    const ly = m.top + 10 + i * 20;
    parts.push(`<circle cx="${W - m.right + 20}" cy="${ly}" r="6" fill="${c}"/>`);
    parts.push(svgText(W - m.right + 32, ly + 4, s.variant));
  });
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="quality versus latency">${parts.join('')}</svg>`;
}

export function barChart(
  summary: SummaryEntry[],
  value: (s: SummaryEntry) => number,
  label: string,
  format: (v: number) => string,
): string {
  const W = 720;
  const row = 28;
  const m = { left: 200, right: 80, top: 28, bottom: 10 };
  const H = m.top + m.bottom + row * summary.length;
  const max = Math.max(1e-9, ...summary.map(value));
  const pw = W - m.left - m.right;
  const parts = [svgText(m.left, 16, label, 'class="axis"')];
  summary.forEach((s, i) => {
    const v = value(s);
    const y = m.top + i * row;
    const w = (v / max) * pw;
    parts.push(svgText(m.left - 8, y + row / 2 + 4, s.variant, 'text-anchor="end"'));
    parts.push(
      `<rect x="${m.left}" y="${n(y + 4)}" width="${n(Math.max(w, 1))}" height="${row - 8}" fill="${colour(i)}"><title>${escapeHtml(`${s.variant}: ${format(v)}`)}</title></rect>`,
    );
    parts.push(svgText(m.left + w + 6, y + row / 2 + 4, format(v)));
  });
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(label)}">${parts.join('')}</svg>`;
}

export function heatMap(results: EvalResults): string {
  const variants = results.config.variants;
  const caseIds = results.config.dataset.caseIds;
  const cw = Math.max(70, Math.min(140, Math.floor(600 / Math.max(1, variants.length))));
  const rh = 20;
  const m = { left: 110, top: 70 };
  const W = m.left + cw * variants.length + 10;
  const H = m.top + rh * caseIds.length + 10;
  const parts: string[] = [];
  variants.forEach((v, j) => {
    const x = m.left + j * cw + cw / 2;
    parts.push(
      svgText(x, m.top - 8, v.label, `text-anchor="start" transform="rotate(-30 ${n(x)} ${m.top - 8})"`),
    );
  });
  const perVariant = variants.map((v) => perCaseQuality(results.cases, v));
  caseIds.forEach((id, i) => {
    const y = m.top + i * rh;
    parts.push(svgText(m.left - 8, y + rh / 2 + 4, id, 'text-anchor="end"'));
    perVariant.forEach((q, j) => {
      const x = m.left + j * cw;
      const value = q.get(id);
      const fill = value === undefined ? '#eee' : qualityColour(value);
      const text = value === undefined ? '—' : value.toFixed(2);
      parts.push(
        `<rect x="${x}" y="${y}" width="${cw - 2}" height="${rh - 2}" fill="${fill}"><title>${escapeHtml(`${id} · ${variants[j]!.label}: ${text}`)}</title></rect>`,
      );
      parts.push(svgText(x + (cw - 2) / 2, y + rh / 2 + 3, text, 'text-anchor="middle" class="cell"'));
    });
  });
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="quality per case and variant">${parts.join('')}</svg>`;
}

function htmlTable(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const css = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.banner{background:#fff4ce;border:1px solid #e0b400;padding:10px 14px;border-radius:4px;font-weight:600}
.chart{max-width:100%;height:auto;display:block;margin:8px 0}.chart text{font-size:12px;fill:#222}.chart .axis{font-weight:600}
.chart .grid{stroke:#e5e5e5}.chart .cell{font-size:11px;fill:#111}ul li{margin:4px 0}.muted{color:#666}
`;

export function renderHtml(results: EvalResults): string {
  const c = results.config;
  const summary = results.summary.filter((s) => s.n > 0);
  const title = evalTitle(results);
  const body: string[] = [];
  body.push(`<h1>${escapeHtml(title)}</h1>`);
  if (c.simulated) body.push(`<p class="banner">${escapeHtml(SIMULATED_BANNER)}</p>`);
  body.push(htmlTable(['setting', 'value'], settingsRows(results)));
  body.push('<h2>Summary</h2>');
  body.push(htmlTable(summaryHead, summaryRows(results)));
  body.push('<h2>Key differences</h2>');
  body.push(
    `<ul>${keyFindings(results)
      .map((s) => `<li>${escapeHtml(s)}</li>`)
      .join('')}</ul>`,
  );
  if (summary.length > 0) {
    body.push('<h2>Quality vs latency</h2>');
    body.push(scatterChart(summary));
    body.push('<h2>Tokens and model calls per run</h2>');
    body.push(
      barChart(
        summary,
        (s) => s.tokens.mean,
        'tokens per run (mean)',
        (v) => fmtNum(v, 0),
      ),
    );
    body.push(
      barChart(
        summary,
        (s) => s.modelCalls.mean,
        'model calls per run (mean)',
        (v) => fmtNum(v),
      ),
    );
  }
  if (results.comparisons.length > 0) {
    body.push('<h2>Comparisons (paired bootstrap on per-case quality)</h2>');
    body.push(htmlTable(comparisonHead, comparisonRows(results)));
  }
  body.push('<h2>Quality per case</h2>');
  body.push(
    '<p class="muted">Colour: red = 0, yellow = 0.5, green = 1; each cell averages the case’s repeats.</p>',
  );
  body.push(heatMap(results));
  body.push('<h2>How to read this</h2>');
  body.push(`<ul>${readingNotes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}
