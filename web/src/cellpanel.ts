// The explanation of one cell (GET /api/cells/{id}) as HTML: why the model rates it, the expected
// count with a 90 % Poisson interval, the trend and the 24-month history as an inline SVG.
import type { CellExplanation } from './api';
import { bandLabel } from './legend';
import { fmt, poissonInterval90, trend } from './stats';

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function sparkline(values: (number | null)[], labels: string[], width = 280, height = 60): string {
  const n = values.length;
  if (!n) return '';
  const max = Math.max(1, ...values.map((v) => v ?? 0));
  const bw = width / n;
  const bars = values
    .map((v, i) => {
      const x = (i * bw).toFixed(1);
      if (v === null) {
        // Suppressed (partners): a hatched stub, never drawn as zero.
        return `<rect x="${x}" y="${height - 6}" width="${(bw - 1).toFixed(1)}" height="6" class="suppressed"><title>${esc(labels[i])}: suppressed (small count)</title></rect>`;
      }
      const h = (v / max) * (height - 8);
      return `<rect x="${x}" y="${(height - h).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${Math.max(h, 0.5).toFixed(1)}"><title>${esc(labels[i])}: ${v}</title></rect>`;
    })
    .join('');
  return `<svg class="sparkline" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Monthly events in the cell, ${esc(labels[0])} to ${esc(labels[n - 1])}, peak ${max}">${bars}</svg>`;
}

function ago(iso: string, origin: string): string {
  const d = (Date.parse(origin) - Date.parse(iso)) / 86400000;
  if (!Number.isFinite(d)) return '';
  if (d < 1) return 'under a day before';
  return `${Math.round(d)} days before`;
}

// The area covariates at the cell (deprivation rank, population density, ...): the values the
// learned model saw for this cell, with units; "unknown" where the cell lies in no valued area.
export function covariatesHtml(c: CellExplanation): string {
  const cov = c.covariates ?? [];
  if (!cov.length) return '';
  const rows = cov
    .map(
      (k) =>
        `<tr><th scope="row" title="${esc(k.description || k.source)}"><code>${esc(k.name)}</code></th><td>${k.value === null ? 'unknown' : fmt(k.value, 4)}</td><td>${esc(k.unit)}</td></tr>`,
    )
    .join('');
  return `<table class="parts covariates"><caption>Area covariates at the cell</caption>${rows}</table>`;
}

export function cellHtml(c: CellExplanation, recordLevel: boolean): string {
  const parts: string[] = [];
  parts.push(`<h3>Cell <code>${esc(c.cell_id)}</code></h3><p class="muted">${c.size_m} m × ${c.size_m} m</p>`);
  const f = c.forecast;
  if (!f) {
    parts.push(`<p>${esc(c.note ?? 'No forecast for this cell.')}</p>`);
  } else {
    const [lo, hi] = poissonInterval90(f.risk);
    const total = f.background + f.recent + (f.other ?? 0);
    const pct = (v: number) => (total > 0 ? Math.round((100 * v) / total) : 0);
    parts.push(`
      <div class="expected">
        <div class="big">${fmt(f.risk)}</div>
        <div>expected events in the next ${esc(f.horizon)}<br/>
        <strong>90 % interval: ${lo}–${hi} events</strong> <span class="muted">(Poisson, sd ${fmt(f.poisson_sd)})</span></div>
      </div>
      <p>Risk band: <strong>${esc(bandLabel(f.band))}</strong> of the active area. ${esc(f.explanation)}.</p>
      <table class="parts">
        <tr><th scope="row">Long-term background</th><td>${fmt(f.background, 3)}</td><td>${pct(f.background)} %</td></tr>
        <tr><th scope="row">Recent nearby events (near-repeat)</th><td>${fmt(f.recent, 3)}</td><td>${pct(f.recent)} %</td></tr>
        <tr><th scope="row">Covariates / other terms</th><td>${fmt(f.other ?? 0, 3)}</td><td>${pct(f.other ?? 0)} %</td></tr>
      </table>
      ${covariatesHtml(c)}
      <p class="muted">Model ${esc(f.model_used)}, origin ${esc(f.origin.slice(0, 16).replace('T', ' '))} UTC${f.stale ? ' · <strong>stale: a refit is pending</strong>' : ''}</p>`);
    // The fitted parameters (e.g. a self-exciting model's branching ratio theta and decay
    // omega), for analysts who want to see what the model learned; collapsed by default.
    const params = Object.entries(f.parameters ?? {}).filter(([, v]) => Number.isFinite(v));
    if (params.length) {
      const rows = params
        .slice(0, 24)
        .map(([k, v]) => `<tr><th scope="row"><code>${esc(k)}</code></th><td>${fmt(v, 4)}</td></tr>`)
        .join('');
      parts.push(`<details class="params"><summary>Fitted model parameters (${params.length})</summary><table class="parts">${rows}</table></details>`);
    }
  }
  const months = c.history.months.map((m) => m.month);
  const values = c.history.months.map((m) => m.events);
  // Months before the first one with any event are most likely before the data begins (the
  // history always spans 24 months): they are left out of the trend rather than read as zeros.
  const first = values.findIndex((v) => v === null || v > 0);
  // The month of the origin is partial unless the origin is its first instant: leave it out too.
  const originIso = f?.origin ?? '';
  const partial = !!originIso && months[months.length - 1] === originIso.slice(0, 7) && !/^\d{4}-\d{2}-01T00:00:00/.test(originIso);
  const t = trend(values.slice(Math.max(first, 0), partial ? -1 : undefined));
  let trendText = 'not enough history for a trend';
  if (t.slope !== null) {
    const dir = Math.abs(t.slope) < 0.05 ? 'flat' : t.slope > 0 ? 'rising' : 'falling';
    trendText = `${dir} (${t.slope >= 0 ? '+' : ''}${fmt(t.slope)} events/month)`;
    if (t.ratio6 !== null) trendText += `; last 6 months ${fmt(t.ratio6)}× the 6 before`;
    if (first > 0) trendText += ` (from ${months[first]}, the first month with events)`;
    if (partial) trendText += `; ${months[months.length - 1]} is partial and left out`;
  }
  parts.push(`<h4>History (events starting in the cell, by month)</h4>
    ${sparkline(values, months)}
    <p class="muted">${esc(months[0] ?? '')} to ${esc(months[months.length - 1] ?? '')}; total ${c.history.total ?? 'suppressed'}; trend ${esc(trendText)}${
      c.history.suppressed_cells ? `; ${c.history.suppressed_cells} months suppressed (small counts)` : ''
    }</p>`);
  if (recordLevel && c.recent_events) {
    const origin = f?.origin ?? new Date().toISOString();
    const rows = c.recent_events
      .slice(0, 25)
      .map(
        (e) =>
          `<tr><td>${esc(e.time_start.slice(0, 10))}</td><td>${esc(ago(e.time_start, origin))}</td><td>${esc(e.category)}</td><td>${Math.round(e.distance_m ?? 0)} m</td><td>${e.quality === 'exact' ? 'exact' : 'approx.'}</td></tr>`,
      )
      .join('');
    parts.push(`<h4>Recent nearby events (${c.recent_events.length} in ${c.recent_events_window_days ?? 90} days)</h4>
      ${rows ? `<table class="events"><thead><tr><th>Date</th><th>When</th><th>Category</th><th>Distance</th><th>Location</th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="muted">None.</p>'}`);
  } else if (!recordLevel) {
    parts.push(`<p class="note">Individual events are not shown to partner organisations.</p>`);
  }
  return parts.join('');
}
