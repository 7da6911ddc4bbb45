// Export of the current view: GeoJSON and CSV of the cells (and, for record-level roles, the
// events) inside the map's bounds, and a one-page shift briefing as a PNG or printed page.
import type * as maplibregl from 'maplibre-gl';

import type { CellFeatureProps, EventProps, Hotspot } from './api';
import { esc } from './cellpanel';
import { bandLabel, kBandClasses, kEventColor } from './legend';
import { fmt, poissonInterval90 } from './stats';

export interface ViewSnapshot {
  params: { model: string; horizon: string; cell: number; category: string; at: string };
  modelUsed: string;
  origin: string;
  stale: boolean;
  bbox: [number, number, number, number];
  cells: GeoJSON.Feature<GeoJSON.Polygon, CellFeatureProps>[];
  events: GeoJSON.Feature<GeoJSON.Point, EventProps & { exact: number }>[];
  hotspots: Hotspot[];
  user: string;
  role: string;
  purpose: string;
  recordLevel: boolean;
}

function stamp(): string {
  return new Date().toISOString().slice(0, 16).replace(/[:T]/g, '');
}

function download(name: string, type: string, data: BlobPart): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

function marking(s: ViewSnapshot): string {
  // Record-level material is police information; partner extracts are aggregates.
  return s.recordLevel ? 'OFFICIAL-SENSITIVE' : 'OFFICIAL (aggregates, disclosure-controlled)';
}

export function exportGeoJson(s: ViewSnapshot): void {
  const fc = {
    type: 'FeatureCollection',
    crimecast: {
      exported_at: new Date().toISOString(),
      exported_by: s.user,
      role: s.role,
      marking: marking(s),
      model: s.params.model,
      model_used: s.modelUsed,
      origin: s.origin,
      horizon: s.params.horizon,
      category: s.params.category || 'all',
      cell_m: s.params.cell,
      bbox: s.bbox,
    },
    features: [
      ...s.cells.map((f) => ({ ...f, properties: { kind: 'cell', ...f.properties } })),
      ...s.events.map((f) => ({ ...f, properties: { kind: 'event', ...f.properties } })),
    ],
  };
  download(`crimecast-view-${stamp()}.geojson`, 'application/geo+json', JSON.stringify(fc));
}

function csvField(v: unknown): string {
  const t = String(v ?? '');
  // Quote fields that need it, and defuse spreadsheet formulas (=, +, -, @ at the start).
  const safe = /^[=+\-@]/.test(t) && !/^-?\d/.test(t) ? `'${t}` : t;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function exportCsv(s: ViewSnapshot): void {
  const rows = [['kind', 'cell_id', 'lon', 'lat', 'risk', 'lower_90', 'upper_90', 'band', 'background', 'recent', 'category', 'time_start', 'quality', 'source', 'id']];
  for (const f of [...s.cells].sort((a, b) => b.properties.risk - a.properties.risk)) {
    const p = f.properties;
    const [lo, hi] = poissonInterval90(p.risk);
    rows.push(['cell', p.cell_id, p.lon.toFixed(6), p.lat.toFixed(6), p.risk.toPrecision(6), String(lo), String(hi), String(p.band ?? ''), p.background.toPrecision(6), p.recent.toPrecision(6), '', '', '', '', '']);
  }
  for (const f of s.events) {
    const p = f.properties;
    rows.push(['event', '', f.geometry.coordinates[0].toFixed(6), f.geometry.coordinates[1].toFixed(6), '', '', '', '', '', '', p.category, p.time_start, p.quality, p.source, p.id]);
  }
  const header = `# crimecast export ${new Date().toISOString()} by ${s.user} (${s.role}); ${marking(s)}; model ${s.modelUsed}, origin ${s.origin}, horizon ${s.params.horizon}\n`;
  download(`crimecast-view-${stamp()}.csv`, 'text/csv', header + rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n');
}

// The map image. The map keeps its drawing buffer (preserveDrawingBuffer), so the canvas can be
// read after a frame has been drawn.
async function mapImage(map: maplibregl.Map): Promise<string> {
  await new Promise<void>((resolve) => {
    if (map.loaded()) resolve();
    else map.once('idle', () => resolve());
  });
  return map.getCanvas().toDataURL('image/png');
}

function title(s: ViewSnapshot): string {
  return `Shift briefing: ${s.params.category ? s.params.category.replace(/,/g, ', ') : 'all crime'}, next ${s.params.horizon}`;
}

function subtitle(s: ViewSnapshot): string {
  return `Model ${s.modelUsed} · origin ${s.origin.slice(0, 16).replace('T', ' ')} UTC · ${s.params.cell} m cells${s.stale ? ' · STALE' : ''} · prepared ${new Date()
    .toISOString()
    .slice(0, 16)
    .replace('T', ' ')} UTC by ${s.user} (${s.role})`;
}

export async function exportBriefingPng(s: ViewSnapshot, map: maplibregl.Map): Promise<void> {
  const url = await mapImage(map);
  const img = new Image();
  await new Promise((r) => {
    img.onload = r;
    img.src = url;
  });
  const W = 1240;
  const H = 1754; // A4 portrait at 150 dpi
  const c = document.createElement('canvas');
  c.width = W;
  c.height = H;
  const g = c.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, W, H);
  g.fillStyle = '#000';
  g.font = 'bold 22px sans-serif';
  g.fillText(marking(s), 60, 50);
  g.font = 'bold 34px sans-serif';
  g.fillText(title(s), 60, 100);
  g.font = '18px sans-serif';
  g.fillText(subtitle(s), 60, 132);
  // Map, scaled to fit 1120 x 860.
  const scale = Math.min(1120 / img.width, 860 / img.height);
  const mw = img.width * scale;
  const mh = img.height * scale;
  g.drawImage(img, 60, 160, mw, mh);
  g.strokeStyle = '#000';
  g.strokeRect(60, 160, mw, mh);
  // Legend.
  let y = 160 + mh + 40;
  g.font = 'bold 20px sans-serif';
  g.fillText('Risk bands', 60, y);
  g.font = '18px sans-serif';
  kBandClasses.forEach((b, i) => {
    const x = 60 + i * 280;
    g.fillStyle = b.color;
    g.fillRect(x, y + 14, 24, 24);
    g.fillStyle = '#000';
    g.fillText(b.label, x + 32, y + 33);
  });
  if (s.recordLevel) {
    y += 50;
    g.fillStyle = kEventColor;
    g.beginPath();
    g.arc(72, y + 26, 8, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = '#000';
    g.fillText('exact event', 88, y + 32);
    g.strokeStyle = kEventColor;
    g.lineWidth = 3;
    g.beginPath();
    g.arc(272, y + 26, 8, 0, 2 * Math.PI);
    g.stroke();
    g.fillText('approximate location', 288, y + 32);
  }
  y += 80;
  g.font = 'bold 20px sans-serif';
  g.fillText('Hotspots in view', 60, y);
  g.font = '16px sans-serif';
  for (const h of s.hotspots.slice(0, 10)) {
    y += 30;
    const [lo, hi] = poissonInterval90(h.risk);
    const line = `${h.rank}. ${fmt(h.risk)} expected (90 %: ${lo}–${hi}), ${bandLabel(h.band)} — ${h.reason}`;
    g.fillText(line.length > 140 ? line.slice(0, 137) + '…' : line, 60, y);
  }
  g.font = '14px sans-serif';
  g.fillText('Forecasts are expected counts, not certainties. Use with local knowledge. Generated by crimecast.', 60, H - 40);
  download(`crimecast-briefing-${stamp()}.png`, 'image/png', await new Promise<Blob>((r) => c.toBlob((b) => r(b!), 'image/png')));
}

// Fills the print-only briefing section and opens the print dialog (the print stylesheet hides
// the application and shows this section on one A4 page).
export async function printBriefing(s: ViewSnapshot, map: maplibregl.Map): Promise<void> {
  const url = await mapImage(map);
  let el = document.getElementById('briefing');
  if (!el) {
    el = document.createElement('section');
    el.id = 'briefing';
    document.body.append(el);
  }
  const rows = s.hotspots
    .slice(0, 10)
    .map((h) => {
      const [lo, hi] = poissonInterval90(h.risk);
      return `<tr><td>${h.rank}</td><td>${fmt(h.risk)} (${lo}–${hi})</td><td>${esc(bandLabel(h.band))}</td><td>${esc(h.reason)}</td></tr>`;
    })
    .join('');
  el.innerHTML = `<p class="marking">${esc(marking(s))}</p><h1>${esc(title(s))}</h1><p>${esc(subtitle(s))}</p>
    <img src="${url}" alt="Map of the briefing area">
    <p>${kBandClasses.map((b) => `<span class="swatch" style="background:${b.color}"></span> ${b.label}`).join(' &nbsp; ')}</p>
    <h2>Hotspots in view</h2>
    <table><thead><tr><th>#</th><th>Expected (90 %)</th><th>Band</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table>
    <p class="small">Forecasts are expected counts, not certainties. Use with local knowledge.</p>`;
  window.print();
}
