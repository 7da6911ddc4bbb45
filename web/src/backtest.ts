// The backtest page: start a rolling-origin backtest (POST /api/backtests), follow its progress
// (GET /api/backtests/{id}), then draw hit rate against coverage per model, the PAI / PEI* table
// and the calibration plot, all as inline SVG.
import { can, getJson, request, type ClientConfig } from './api';
import { esc } from './cellpanel';

interface CoverageScore {
  coverage: number;
  hit_rate: number | null;
  pai: number | null;
  pei: number | null;
  pei_star: number | null;
  area_km2: number | null;
}
interface Summary {
  group: string;
  model: string;
  origins_scored: number;
  origins_failed: number;
  coverage: CoverageScore[];
  calibration: { decile: number; cells: number; mean_predicted: number | null; mean_observed: number | null }[];
  curve_hit_rate: number[];
  log_likelihood_per_event_mean: number | null;
}
interface Report {
  config: { curve_coverages: number[]; coverages: number[]; horizon: string; grid: { cell_m: number } };
  summary: Summary[];
}
interface Job {
  id: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  progress?: { done: number; total: number; fraction: number; model?: string; origin?: string };
  report?: Report;
  error?: string;
}

// Okabe-Ito, for up to 8 models.
const kModelColors = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000', '#f0e442'];

export class BacktestView {
  private timer = 0;
  constructor(
    private root: HTMLElement,
    private cfg: ClientConfig,
  ) {
    this.render();
  }

  private render(): void {
    const allowed = can('run-backtests');
    const today = new Date();
    const models = this.cfg.models
      .map(
        (m, i) =>
          `<label title="${esc(m.summary)}"><input type="checkbox" name="bt-model" value="${m.name}" ${i < 4 ? 'checked' : ''}> ${esc(m.name)}</label>`,
      )
      .join('');
    this.root.innerHTML = `<div class="backtest-page">
      <h2>Backtest: how well would each model have done?</h2>
      <p class="muted">A rolling-origin backtest refits every model at each origin between the two dates and scores its
      forecast against what then happened: hit rate (share of events in the top-ranked cells) against the share of the
      area flagged, the predictive accuracy index (PAI) and PEI* (hit rate relative to the best possible), and calibration.</p>
      ${allowed ? '' : '<p class="note">Your role may not start backtests (analysts and administrators can).</p>'}
      <form id="bt-form" ${allowed ? '' : 'hidden'}>
        <fieldset><legend>Models</legend><div class="cat-list">${models}</div></fieldset>
        <label>From <input type="month" id="bt-from" required></label>
        <label>To <input type="month" id="bt-to" required></label>
        <label>Horizon <select id="bt-horizon">${this.cfg.horizons.map((h) => `<option ${h === this.cfg.default_horizon ? 'selected' : ''}>${h}</option>`).join('')}</select></label>
        <label>Cell (m) <input type="number" id="bt-cell" min="${Math.max(10, this.cfg.min_cell_m)}" max="${this.cfg.max_cell_m}" value="${this.cfg.default_cell_m}"></label>
        <label>Category <select id="bt-cat"><option value="">All</option>${this.cfg.categories.map((c) => `<option value="${c.slug}">${esc(c.name)}</option>`).join('')}</select></label>
        <button type="submit">Run backtest</button>
      </form>
      <div id="bt-progress" role="status" aria-live="polite"></div>
      <div id="bt-result"></div>
    </div>`;
    const to = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
    const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() - 3, 1));
    (this.root.querySelector('#bt-to') as HTMLInputElement).value = to.toISOString().slice(0, 7);
    (this.root.querySelector('#bt-from') as HTMLInputElement).value = from.toISOString().slice(0, 7);
    // Default the dates to the data's last months (from GET /api/stats).
    void getJson<{ extent?: { from: string; to: string } }>('/api/stats')
      .then((s) => {
        if (!s.extent) return;
        const end = new Date(s.extent.to);
        const t = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1));
        const f = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - 2, 1));
        (this.root.querySelector('#bt-to') as HTMLInputElement).value = t.toISOString().slice(0, 7);
        (this.root.querySelector('#bt-from') as HTMLInputElement).value = f.toISOString().slice(0, 7);
      })
      .catch(() => {});
    this.root.querySelector('#bt-form')!.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.start();
    });
  }

  private async start(): Promise<void> {
    const q = (s: string) => this.root.querySelector(s) as HTMLInputElement;
    const models = Array.from(this.root.querySelectorAll<HTMLInputElement>('input[name=bt-model]:checked')).map((el) => el.value);
    const body: Record<string, unknown> = {
      models,
      from: q('#bt-from').value,
      to: q('#bt-to').value,
      horizon: q('#bt-horizon').value,
      cell: Number(q('#bt-cell').value),
    };
    if (q('#bt-cat').value) body.categories = [q('#bt-cat').value];
    const progress = this.root.querySelector('#bt-progress')!;
    try {
      const r = await request('/api/backtests', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const job = (await r.json()) as Job;
      progress.innerHTML = `Queued job ${esc(job.id)}…`;
      this.poll(job.id);
    } catch (e) {
      progress.innerHTML = `<p class="error">${esc((e as Error).message)}</p>`;
    }
  }

  private poll(id: string): void {
    window.clearTimeout(this.timer);
    const progress = this.root.querySelector('#bt-progress')!;
    const tick = async () => {
      try {
        const job = await getJson<Job>(`/api/backtests/${encodeURIComponent(id)}`);
        if (job.status === 'done' && job.report) {
          progress.innerHTML = `Job ${esc(id)} finished.`;
          this.showReport(job.report);
          return;
        }
        if (job.status === 'failed') {
          progress.innerHTML = `<p class="error">Job ${esc(id)} failed: ${esc(job.error ?? '')}</p>`;
          return;
        }
        const p = job.progress;
        const frac = p ? p.fraction : 0;
        progress.innerHTML = `<label>Job ${esc(id)}: ${esc(job.status)}${p?.model ? ` · ${esc(p.model)} at ${esc((p.origin ?? '').slice(0, 10))}` : ''}
          <progress max="1" value="${frac}">${Math.round(frac * 100)} %</progress> ${p ? `${p.done} / ${p.total}` : ''}</label>`;
        this.timer = window.setTimeout(tick, 1000);
      } catch (e) {
        progress.innerHTML = `<p class="error">${esc((e as Error).message)}</p>`;
      }
    };
    void tick();
  }

  showReport(r: Report): void {
    const sums = r.summary.filter((s) => s.group === (r.summary[0]?.group ?? ''));
    const out = this.root.querySelector('#bt-result')!;
    out.innerHTML = `<div class="charts">
        <figure><figcaption>Hit rate against area flagged</figcaption>${hitRateSvg(sums, r.config.curve_coverages)}</figure>
        <figure><figcaption>Calibration (deciles of predicted risk)</figcaption>${calibrationSvg(sums)}</figure>
      </div>
      ${tableHtml(sums, r.config.coverages)}`;
  }

  destroy(): void {
    window.clearTimeout(this.timer);
  }
}

function legend(sums: Summary[]): string {
  return sums
    .map((s, i) => `<g transform="translate(60,${16 + i * 16})"><rect width="12" height="4" y="-4" fill="${kModelColors[i % 8]}"/><text x="16" font-size="11">${esc(s.model)}</text></g>`)
    .join('');
}

function hitRateSvg(sums: Summary[], coverages: number[]): string {
  const W = 420;
  const H = 300;
  const L = 44;
  const B = 34;
  const maxX = Math.max(...coverages, 0.01);
  const x = (v: number) => L + (v / maxX) * (W - L - 10);
  const y = (v: number) => H - B - v * (H - B - 10);
  const lines = sums
    .map((s, i) => {
      const pts = s.curve_hit_rate.map((h, k) => `${x(coverages[k]).toFixed(1)},${y(h ?? 0).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${kModelColors[i % 8]}" stroke-width="2" points="${pts}"><title>${esc(s.model)}</title></polyline>`;
    })
    .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => `<line x1="${L}" x2="${W - 10}" y1="${y(t)}" y2="${y(t)}" class="grid"/><text x="${L - 4}" y="${y(t) + 4}" text-anchor="end" font-size="10">${t * 100}%</text>`)
    .join('');
  const xt = [0, maxX / 2, maxX]
    .map((t) => `<text x="${x(t)}" y="${H - B + 14}" text-anchor="middle" font-size="10">${(t * 100).toFixed(0)}%</text>`)
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" class="chart" role="img" aria-label="Hit rate against coverage per model">${ticks}${xt}
    <text x="${(W + L) / 2}" y="${H - 4}" text-anchor="middle" font-size="11">share of the area flagged (coverage)</text>
    <text transform="translate(10,${(H - B) / 2}) rotate(-90)" text-anchor="middle" font-size="11">hit rate</text>${lines}${legend(sums)}</svg>`;
}

function calibrationSvg(sums: Summary[]): string {
  const W = 420;
  const H = 300;
  const L = 44;
  const B = 34;
  let max = 0;
  for (const s of sums) for (const b of s.calibration) max = Math.max(max, b.mean_predicted ?? 0, b.mean_observed ?? 0);
  max = max || 1;
  const x = (v: number) => L + (v / max) * (W - L - 10);
  const y = (v: number) => H - B - (v / max) * (H - B - 10);
  const dots = sums
    .map((s, i) =>
      s.calibration
        .filter((b) => b.mean_predicted !== null && b.mean_observed !== null)
        .map(
          (b) =>
            `<circle cx="${x(b.mean_predicted!).toFixed(1)}" cy="${y(b.mean_observed!).toFixed(1)}" r="4" fill="${kModelColors[i % 8]}"><title>${esc(s.model)} decile ${b.decile}: predicted ${b.mean_predicted!.toFixed(3)}, observed ${b.mean_observed!.toFixed(3)} (${b.cells} cells)</title></circle>`,
        )
        .join(''),
    )
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" class="chart" role="img" aria-label="Calibration: mean observed against mean predicted events per cell">
    <line x1="${x(0)}" y1="${y(0)}" x2="${x(max)}" y2="${y(max)}" class="diag"/>
    <text x="${(W + L) / 2}" y="${H - 4}" text-anchor="middle" font-size="11">mean predicted events per cell (0–${max.toPrecision(2)})</text>
    <text transform="translate(10,${(H - B) / 2}) rotate(-90)" text-anchor="middle" font-size="11">mean observed</text>${dots}${legend(sums)}</svg>`;
}

function tableHtml(sums: Summary[], coverages: number[]): string {
  const n = (v: number | null, d = 2) => (v === null || v === undefined ? '–' : v.toFixed(d));
  const head = coverages.map((c) => `<th colspan="3">${(c * 100).toFixed(c < 0.01 ? 1 : 0)} % of area</th>`).join('');
  const sub = coverages.map(() => '<th>hit rate</th><th>PAI</th><th>PEI*</th>').join('');
  const rows = sums
    .map(
      (s) =>
        `<tr><th scope="row">${esc(s.model)}</th><td>${s.origins_scored}${s.origins_failed ? ` (${s.origins_failed} failed)` : ''}</td>${s.coverage
          .map((c) => `<td>${c.hit_rate === null ? '–' : (c.hit_rate * 100).toFixed(1) + ' %'}</td><td>${n(c.pai, 1)}</td><td>${n(c.pei_star)}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  return `<table class="bt-table"><caption>Predictive accuracy index (PAI: hit rate / area share) and PEI* (hit rate / best possible hit rate with the same cells)</caption>
    <thead><tr><th rowspan="2">Model</th><th rowspan="2">Origins</th>${head}</tr><tr>${sub}</tr></thead><tbody>${rows}</tbody></table>`;
}
