// The map page: forecast cells by risk band, clustered events, boundary overlays, hotspots, the
// cell explanation and the live stream, kept in step with one another.
import * as maplibregl from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';

import {
  canReadRecords,
  currentSession,
  getForecast,
  getJson,
  type CellExplanation,
  type ClientConfig,
  type EventProps,
  type Forecast,
  type Hotspot,
  type Hotspots,
} from './api';
import { cellHtml, esc } from './cellpanel';
import { exportBriefingPng, exportCsv, exportGeoJson, printBriefing, type ViewSnapshot } from './export';
import {
  bandColorExpression,
  bandOpacityExpression,
  bandLabel,
  kBoundaryColors,
  kClusterColor,
  kEventColor,
  kLiveColor,
  legendHtml,
} from './legend';
import { buildRaster, type GridRaster } from './raster';
import { fmt } from './stats';

maplibregl.setWorkerUrl(workerUrl);

// Category groups offered by the forecast picker (slugs of docs/api.md), then each category.
const kGroups: { label: string; slugs: string }[] = [
  { label: 'All crime', slugs: '' },
  { label: 'Burglary', slugs: 'burglary' },
  { label: 'Vehicle crime', slugs: 'vehicle-crime' },
  { label: 'Violence and robbery', slugs: 'violence,robbery' },
  { label: 'Acquisitive theft', slugs: 'other-theft,theft-from-person,shoplifting,bicycle-theft' },
  { label: 'Anti-social behaviour', slugs: 'asb' },
  { label: 'Damage and public order', slugs: 'criminal-damage,public-order' },
  { label: 'Drugs and weapons', slugs: 'drugs,weapons' },
];

const kDay = 86400000;
// Above this many cells the forecast is drawn as an image (raster.ts) rather than as polygons.
const kRasterCells = 20000;

function horizonMs(h: string): number {
  const m = /^(\d+)([hdM])$/.exec(h);
  if (!m) return 7 * kDay;
  const n = Number(m[1]);
  return m[2] === 'h' ? n * 3600000 : m[2] === 'd' ? n * kDay : n * 30 * kDay;
}

interface EventFeatureProps extends EventProps {
  key: string;
  t: number;
  exact: number; // 1 exact, 0 approximate
  live: number; // 1 when it arrived on the live stream
}

type Pt = GeoJSON.Feature<GeoJSON.Point, EventFeatureProps>;

export class MapView {
  readonly root: HTMLElement;
  map!: maplibregl.Map;
  private cfg: ClientConfig;
  private recordLevel: boolean;
  private forecast: Forecast | null = null;
  private forecastParams = { model: '', horizon: '', cell: 0, category: '', at: '' };
  private events = new Map<string, Pt>();
  private hotspots: Hotspot[] = [];
  private selected: string | null = null;
  private live: EventSource | null = null;
  private liveCount = 0;
  private clusterMarkers = new Map<number, maplibregl.Marker>();
  private boundaryOn = new Set<string>();
  private windowFrom = 0;
  private windowTo = 0;
  private loadSeq = 0;
  private eventsTruncated = false;
  private prefetch: Promise<Forecast> | null = null;
  private destroyed = false;
  private raster: GridRaster | null = null; // set when the forecast is drawn as an image
  private cellIndex = new Map<string, GeoJSON.Feature<GeoJSON.Polygon, import('./api').CellFeatureProps>>();
  // Measurements the end-to-end tests read (window.crimecast.metrics).
  metrics: Record<string, number> = {};

  constructor(root: HTMLElement, cfg: ClientConfig) {
    this.root = root;
    this.cfg = cfg;
    this.recordLevel = canReadRecords();
    this.render();
  }

  private $<T extends HTMLElement = HTMLElement>(sel: string): T {
    return this.root.querySelector(sel) as T;
  }

  private render(): void {
    const cfg = this.cfg;
    const cellOptions = [50, 100, 150, 250, 500, 1000]
      .filter((c) => c >= cfg.min_cell_m)
      .concat(cfg.min_cell_m > 0 && ![500, 1000].includes(cfg.min_cell_m) ? [cfg.min_cell_m] : [])
      .sort((a, b) => a - b);
    if (!cellOptions.includes(cfg.default_cell_m)) cellOptions.push(cfg.default_cell_m);
    const cats = cfg.categories.map((c) => `<option value="${c.slug}">${esc(c.name)}</option>`).join('');
    const groups = kGroups.map((g) => `<option value="${g.slugs}">${esc(g.label)}</option>`).join('');
    const eventCats = cfg.categories
      .map((c) => `<label><input type="checkbox" name="evcat" value="${c.slug}" checked> ${esc(c.name)}</label>`)
      .join('');
    this.root.innerHTML = `
<div class="map-page">
  <aside class="controls" aria-label="Map controls">
    <form id="forecast-form" aria-label="Forecast">
      <h2>Forecast</h2>
      <label>Model <select id="f-model">${cfg.models
        .map((m) => `<option value="${m.name}" title="${esc(m.summary)}">${esc(m.name)}</option>`)
        .join('')}</select></label>
      <label>Crime <select id="f-category"><optgroup label="Groups">${groups}</optgroup><optgroup label="Single category">${cats}</optgroup></select></label>
      <label>Horizon <select id="f-horizon">${cfg.horizons.map((h) => `<option>${h}</option>`).join('')}</select></label>
      <label>Cell size <select id="f-cell">${cellOptions.map((c) => `<option value="${c}">${c} m</option>`).join('')}</select></label>
      <label>Origin <input id="f-at" type="date" aria-describedby="f-at-help"></label>
      <p id="f-at-help" class="muted small">Empty: the live forecast, updated as events arrive.</p>
      <button type="submit">Update forecast</button>
    </form>
    <fieldset>
      <legend>Layers</legend>
      <label><input type="checkbox" id="l-cells" checked> Risk cells <kbd>c</kbd></label>
      <label>Opacity <input type="range" id="l-opacity" min="0" max="100" value="70" aria-label="Risk cell opacity"></label>
      ${this.recordLevel ? `<label><input type="checkbox" id="l-events" checked> Events <kbd>e</kbd></label>` : ''}
      <div id="boundary-toggles">${
        cfg.boundaries.length
          ? cfg.boundaries
              .map((b, i) => `<label><input type="checkbox" data-boundary="${esc(b.name)}"> ${esc(b.name.toUpperCase())} boundaries${i === 0 ? ' <kbd>b</kbd>' : ''}</label>`)
              .join('')
          : '<p class="muted small" id="no-boundaries">No boundary overlays: this server has no boundary files (crimecast serve --boundaries NAME=FILE).</p>'
      }</div>
      <label><input type="checkbox" id="l-live" checked> Live updates <kbd>l</kbd></label>
    </fieldset>
    ${
      this.recordLevel
        ? `<fieldset id="event-filters">
      <legend>Events</legend>
      <label>Show the last <select id="e-span"><option value="1">1 day</option><option value="7">7 days</option><option value="28">28 days</option><option value="90" selected>90 days</option></select></label>
      <label>up to <output id="e-end-label"></output><input type="range" id="e-end" min="0" max="90" value="90" aria-label="Events up to this day"></label>
      <details><summary>Categories</summary><div class="cat-list">${eventCats}</div>
        <button type="button" id="e-all">All</button> <button type="button" id="e-none">None</button></details>
      <p id="e-count" class="muted small" aria-live="polite"></p>
    </fieldset>`
        : `<p class="note" id="partner-note">Partner view: aggregates only, cells of at least ${cfg.min_cell_m} m. Individual events are not available to your role.</p>`
    }
    <fieldset>
      <legend>Export this view</legend>
      <button type="button" id="x-geojson">GeoJSON</button>
      <button type="button" id="x-csv">CSV</button>
      <button type="button" id="x-png">Briefing PNG</button>
      <button type="button" id="x-print">Print briefing <kbd>p</kbd></button>
    </fieldset>
  </aside>
  <section class="map-wrap" aria-label="Map">
    <div id="map" role="application" aria-label="Risk map. Arrow keys pan, plus and minus zoom."></div>
    <div id="legend" class="legend" aria-label="Legend">${legendHtml(this.recordLevel, cfg.boundaries.map((b) => b.name))}</div>
    <div id="status" class="status" role="status" aria-live="polite"></div>
  </section>
  <aside class="side" aria-label="Details">
    <div class="tabs" role="tablist">
      <button role="tab" id="tab-hot" aria-controls="panel-hot" aria-selected="true">Hotspots <kbd>h</kbd></button>
      <button role="tab" id="tab-cell" aria-controls="panel-cell" aria-selected="false">Cell</button>
      <button role="tab" id="tab-feed" aria-controls="panel-feed" aria-selected="false">Live feed <span id="feed-count" class="badge">0</span></button>
    </div>
    <div role="tabpanel" id="panel-hot" aria-labelledby="tab-hot"><p class="muted">Loading…</p></div>
    <div role="tabpanel" id="panel-cell" aria-labelledby="tab-cell" hidden><p class="muted">Click a cell on the map, or a hotspot, to see why it is rated as it is.</p></div>
    <div role="tabpanel" id="panel-feed" aria-labelledby="tab-feed" hidden><p class="muted" id="feed-empty">Waiting for live messages…</p><ol id="feed" class="feed"></ol></div>
  </aside>
</div>`;
    (this.$('#f-model') as HTMLSelectElement).value = cfg.models.some((m) => m.name === cfg.default_model)
      ? cfg.default_model
      : cfg.models[0]?.name ?? '';
    (this.$('#f-horizon') as HTMLSelectElement).value = cfg.default_horizon;
    (this.$('#f-cell') as HTMLSelectElement).value = String(cfg.default_cell_m);
    this.applyHashParams();
    this.bindControls();
    // The first forecast is requested at once, while MapLibre and its worker start: the two
    // overlap instead of adding up.
    const p = this.readForm();
    this.prefetch = getForecast({ ...p, category: p.category || undefined, at: p.at || undefined });
    this.prefetch.catch(() => {}); // reported by loadAll
    void this.createMap();
  }

  // Shareable views: #/map?model=kde&horizon=7d&cell=40&category=burglary&at=2025-05-01 presets
  // the forecast form (a cell size that is not in the list is added to it, within the limits).
  private applyHashParams(): void {
    const q = new URLSearchParams(location.hash.split('?')[1] ?? '');
    const set = (sel: string, v: string | null) => {
      if (v === null) return;
      const el = this.$<HTMLSelectElement | HTMLInputElement>(sel);
      if (el instanceof HTMLSelectElement && !Array.from(el.options).some((o) => o.value === v)) {
        if (sel !== '#f-cell') return;
        const c = Number(v);
        if (!(c >= Math.max(1, this.cfg.min_cell_m) && c <= this.cfg.max_cell_m)) return;
        el.add(new Option(`${c} m`, String(c)));
      }
      el.value = v;
    };
    set('#f-model', q.get('model'));
    set('#f-horizon', q.get('horizon'));
    set('#f-cell', q.get('cell'));
    set('#f-category', q.get('category'));
    set('#f-at', q.get('at'));
  }

  private bindControls(): void {
    this.$('#forecast-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.loadAll();
    });
    this.$<HTMLInputElement>('#l-cells').addEventListener('change', () => this.applyLayerVisibility());
    this.$<HTMLInputElement>('#l-opacity').addEventListener('input', () => this.applyOpacity());
    this.root.querySelector('#l-events')?.addEventListener('change', () => this.applyLayerVisibility());
    this.$<HTMLInputElement>('#l-live').addEventListener('change', () => this.setLive(this.$<HTMLInputElement>('#l-live').checked));
    this.root.querySelectorAll<HTMLInputElement>('[data-boundary]').forEach((el) =>
      el.addEventListener('change', () => {
        const name = el.dataset.boundary!;
        if (el.checked) this.boundaryOn.add(name);
        else this.boundaryOn.delete(name);
        void this.refreshBoundaries();
      }),
    );
    if (this.recordLevel) {
      this.$('#e-span').addEventListener('change', () => this.refreshEventSource());
      this.$('#e-end').addEventListener('input', () => this.refreshEventSource());
      this.root.querySelectorAll('input[name=evcat]').forEach((el) => el.addEventListener('change', () => this.refreshEventSource()));
      const setAll = (v: boolean) => {
        this.root.querySelectorAll<HTMLInputElement>('input[name=evcat]').forEach((el) => (el.checked = v));
        this.refreshEventSource();
      };
      this.$('#e-all').addEventListener('click', () => setAll(true));
      this.$('#e-none').addEventListener('click', () => setAll(false));
    }
    for (const [tab, panel] of [
      ['#tab-hot', '#panel-hot'],
      ['#tab-cell', '#panel-cell'],
      ['#tab-feed', '#panel-feed'],
    ]) {
      this.$(tab).addEventListener('click', () => this.showTab(panel));
    }
    this.$('#x-geojson').addEventListener('click', () => exportGeoJson(this.snapshot()));
    this.$('#x-csv').addEventListener('click', () => exportCsv(this.snapshot()));
    this.$('#x-png').addEventListener('click', () => void exportBriefingPng(this.snapshot(), this.map));
    this.$('#x-print').addEventListener('click', () => void printBriefing(this.snapshot(), this.map));
  }

  showTab(panelSel: string): void {
    for (const p of ['#panel-hot', '#panel-cell', '#panel-feed']) {
      const on = p === panelSel;
      this.$(p).hidden = !on;
      this.$(p.replace('panel', 'tab')).setAttribute('aria-selected', String(on));
    }
  }

  private status(text: string, isError = false): void {
    const el = this.$('#status');
    el.textContent = text;
    el.classList.toggle('error', isError);
  }

  private async createMap(): Promise<void> {
    const offline: maplibregl.StyleSpecification = {
      version: 8,
      sources: {},
      // The offline default: no tiles, no glyphs, no network; the grid and boundaries carry the map.
      layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eeeeea' } }],
    };
    const t0 = performance.now();
    this.map = new maplibregl.Map({
      container: this.$('#map'),
      style: this.cfg.basemap_style ?? offline,
      center: [-2.99, 51.58],
      zoom: 11,
      attributionControl: this.cfg.basemap_style ? {} : false,
      // Needed to export the map as an image; the cost is small next to redrawing 50,000 cells.
      canvasContextAttributes: { preserveDrawingBuffer: true },
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    this.map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
    await new Promise<void>((resolve) => this.map.once('load', () => resolve()));
    this.metrics.mapLoadMs = performance.now() - t0;
    this.addLayers();
    this.bindMapEvents();
    await this.loadAll();
    this.setLive(true);
  }

  private addLayers(): void {
    const m = this.map;
    const empty: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };
    // Cells are tiled up to zoom 14 only and overzoomed beyond: a 50 m cell is a few pixels at
    // z14 already, and every extra zoom level would re-tile all the cells again.
    m.addSource('forecast', { type: 'geojson', data: empty, promoteId: 'cell_id', tolerance: 0, maxzoom: 14, buffer: 4 });
    // The selected cell's outline has its own one-feature source: a line layer over the whole
    // forecast would double the work of drawing 50,000 cells.
    m.addSource('selected', { type: 'geojson', data: empty });
    m.addLayer({
      id: 'cells-fill',
      type: 'fill',
      source: 'forecast',
      paint: {
        'fill-color': bandColorExpression() as maplibregl.ExpressionSpecification,
        'fill-opacity': bandOpacityExpression(0.7) as maplibregl.ExpressionSpecification,
        'fill-antialias': false,
      },
    });
    m.addLayer({ id: 'cells-selected', type: 'line', source: 'selected', paint: { 'line-color': '#000', 'line-width': 3 } });
    if (this.recordLevel) {
      m.addSource('events', {
        type: 'geojson',
        data: empty,
        cluster: true,
        clusterRadius: 40,
        clusterMaxZoom: 15,
      });
      m.addLayer({
        id: 'events-clusters',
        type: 'circle',
        source: 'events',
        filter: ['has', 'point_count'],
        paint: {
          'circle-color': kClusterColor,
          'circle-opacity': 0.85,
          'circle-stroke-color': '#fff',
          'circle-stroke-width': 1.5,
          'circle-radius': ['step', ['get', 'point_count'], 10, 10, 14, 50, 18, 200, 24],
        },
      });
      m.addLayer({
        id: 'events-exact',
        type: 'circle',
        source: 'events',
        filter: ['all', ['!', ['has', 'point_count']], ['==', ['get', 'exact'], 1]],
        paint: {
          'circle-color': ['case', ['==', ['get', 'live'], 1], kLiveColor, kEventColor],
          'circle-radius': ['case', ['==', ['get', 'live'], 1], 8, 5],
          'circle-stroke-color': '#fff',
          'circle-stroke-width': 1.5,
        },
      });
      m.addLayer({
        id: 'events-approx',
        type: 'circle',
        source: 'events',
        filter: ['all', ['!', ['has', 'point_count']], ['==', ['get', 'exact'], 0]],
        paint: {
          'circle-color': '#fff',
          'circle-opacity': 0.2,
          'circle-radius': ['case', ['==', ['get', 'live'], 1], 8, 5],
          'circle-stroke-color': ['case', ['==', ['get', 'live'], 1], kLiveColor, kEventColor],
          'circle-stroke-width': 2.5,
        },
      });
    }
  }

  private bindMapEvents(): void {
    const m = this.map;
    m.on('click', 'cells-fill', (e) => {
      // An event or cluster on top of the cell takes the click.
      const onTop = this.recordLevel
        ? m.queryRenderedFeatures(e.point, { layers: ['events-clusters', 'events-exact', 'events-approx'] })
        : [];
      if (onTop.length) return;
      const f = e.features?.[0];
      if (f) void this.selectCell(String(f.properties.cell_id), false);
    });
    m.on('click', (e) => {
      if (!this.raster || !this.$<HTMLInputElement>('#l-cells').checked) return;
      const layers = ['events-clusters', 'events-exact', 'events-approx'].filter((l) => m.getLayer(l));
      if (layers.length && m.queryRenderedFeatures(e.point, { layers }).length) return;
      const ij = this.raster.indexAt(e.lngLat.lng, e.lngLat.lat);
      const cell = ij && this.raster.byIndex.get(`${ij[0]}:${ij[1]}`);
      if (cell) void this.selectCell(cell.properties.cell_id, false);
    });
    for (const layer of ['cells-fill', 'events-clusters', 'events-exact', 'events-approx']) {
      if (!m.getLayer(layer)) continue;
      m.on('mouseenter', layer, () => (m.getCanvas().style.cursor = 'pointer'));
      m.on('mouseleave', layer, () => (m.getCanvas().style.cursor = ''));
    }
    if (this.recordLevel) {
      m.on('click', 'events-clusters', async (e) => {
        const f = e.features?.[0];
        if (!f) return;
        const src = m.getSource('events') as maplibregl.GeoJSONSource;
        const zoom = await src.getClusterExpansionZoom(f.properties.cluster_id);
        m.easeTo({ center: (f.geometry as GeoJSON.Point).coordinates as [number, number], zoom });
      });
      for (const layer of ['events-exact', 'events-approx']) {
        m.on('click', layer, (e) => {
          const f = e.features?.[0];
          if (!f) return;
          const p = f.properties as EventFeatureProps;
          new maplibregl.Popup({ closeButton: true, maxWidth: '260px' })
            .setLngLat((f.geometry as GeoJSON.Point).coordinates as [number, number])
            .setHTML(
              `<strong>${esc(p.category)}</strong><br>${esc(p.time_start.replace('T', ' ').slice(0, 16))} UTC<br>` +
                `${p.exact ? 'Exact location' : 'Approximate location (snapped)'}<br><span class="muted">${esc(p.source)}:${esc(p.id)}</span>` +
                (p.live ? '<br><strong>New (live)</strong>' : ''),
            )
            .addTo(m);
        });
      }
      m.on('render', () => this.updateClusterMarkers());
    }
    let boundaryTimer = 0;
    m.on('moveend', () => {
      if (this.destroyed) return;
      window.clearTimeout(boundaryTimer);
      boundaryTimer = window.setTimeout(() => void this.refreshBoundaries(), 250);
    });
  }

  // Cluster counts as HTML markers: the offline style has no glyphs, so no text layers.
  private updateClusterMarkers(): void {
    const m = this.map;
    if (!m.getSource('events') || !m.isSourceLoaded('events')) return;
    const visible = this.$<HTMLInputElement>('#l-events')?.checked;
    const seen = new Set<number>();
    if (visible) {
      for (const f of m.querySourceFeatures('events')) {
        const p = f.properties;
        if (!p?.cluster) continue;
        const id = p.cluster_id as number;
        if (seen.has(id)) continue;
        seen.add(id);
        let mk = this.clusterMarkers.get(id);
        if (!mk) {
          const el = document.createElement('div');
          el.className = 'cluster-count';
          el.textContent = String(p.point_count_abbreviated ?? p.point_count);
          mk = new maplibregl.Marker({ element: el }).setLngLat((f.geometry as GeoJSON.Point).coordinates as [number, number]);
          this.clusterMarkers.set(id, mk);
        }
        mk.addTo(m);
      }
    }
    for (const [id, mk] of this.clusterMarkers) {
      if (!seen.has(id)) {
        mk.remove();
        this.clusterMarkers.delete(id);
      }
    }
  }

  private readForm(): typeof this.forecastParams {
    const at = this.$<HTMLInputElement>('#f-at').value;
    return {
      model: this.$<HTMLSelectElement>('#f-model').value,
      horizon: this.$<HTMLSelectElement>('#f-horizon').value,
      cell: Number(this.$<HTMLSelectElement>('#f-cell').value),
      category: this.$<HTMLSelectElement>('#f-category').value,
      at,
    };
  }

  // Loads the forecast, the hotspots and (record-level roles) the events of the chosen window.
  async loadAll(): Promise<void> {
    const seq = ++this.loadSeq;
    const p = this.readForm();
    this.forecastParams = p;
    this.status('Loading the forecast… (the first request fits the model; this can take a few seconds)');
    const t0 = performance.now();
    try {
      const pre = this.prefetch;
      this.prefetch = null;
      const f = await (pre ?? getForecast({ ...p, category: p.category || undefined, at: p.at || undefined }));
      if (seq !== this.loadSeq) return;
      this.forecast = f;
      this.metrics.forecastFetchMs = performance.now() - t0;
      this.metrics.cells = f.geojson.features.length;
      const src = this.map.getSource('forecast') as maplibregl.GeoJSONSource;
      this.cellIndex = new Map(f.geojson.features.map((c) => [c.properties.cell_id, c]));
      this.raster = f.geojson.features.length > kRasterCells ? buildRaster(f.geojson.features) : null;
      if (this.raster) {
        src.setData({ type: 'FeatureCollection', features: [] });
        this.showRaster();
      } else {
        if (this.map.getLayer('cells-raster')) this.map.setLayoutProperty('cells-raster', 'visibility', 'none');
        src.setData(f.geojson);
      }
      (this.map.getSource('selected') as maplibregl.GeoJSONSource).setData({ type: 'FeatureCollection', features: [] });
      this.selected = null;
      const firstLoad = !this.metrics.firstForecastAt;
      this.metrics.firstForecastAt = performance.now();
      if (firstLoad) this.fitToCells();
      // The cells first: the hotspots and events are fetched once they are drawn, so they do not
      // compete for the network, the server and the main thread with the first picture.
      await new Promise<void>((resolve) =>
        this.map.once('idle', () => {
          this.metrics.cellsDrawnMs = performance.now() - t0;
          // Since navigation started (performance.now()'s origin): the time to an interactive map.
          this.metrics.cellsIdleAt = performance.now();
          this.metrics.idleCount = (this.metrics.idleCount ?? 0) + 1;
          resolve();
        }),
      );
      if (seq !== this.loadSeq) return;
      const origin = f.origin ? Date.parse(f.origin) : Date.now();
      this.windowTo = origin + horizonMs(p.horizon);
      this.windowFrom = origin - 90 * kDay;
      this.status(
        `${f.modelUsed}${f.modelUsed !== p.model ? ` (fallback from ${p.model})` : ''} · origin ${f.origin.slice(0, 16).replace('T', ' ')} UTC · ${p.horizon} · ${
          f.geojson.features.length
        } cells${f.stale ? ' · stale, refit pending' : ''}${f.liveEvents ? ` · ${f.liveEvents} live events folded in` : ''}`,
      );
    } catch (e) {
      if (seq !== this.loadSeq) return;
      this.status(`Forecast failed: ${(e as Error).message}`, true);
      return;
    }
    await Promise.all([this.loadHotspots(seq), this.recordLevel ? this.loadEvents(seq) : Promise.resolve()]);
  }

  private showRaster(): void {
    const r = this.raster!;
    const m = this.map;
    const url = r.canvas.toDataURL('image/png');
    const src = m.getSource('forecast-raster') as maplibregl.ImageSource | undefined;
    if (src) {
      src.updateImage({ url, coordinates: r.corners });
    } else {
      m.addSource('forecast-raster', { type: 'image', url, coordinates: r.corners });
      m.addLayer(
        {
          id: 'cells-raster',
          type: 'raster',
          source: 'forecast-raster',
          paint: { 'raster-resampling': 'nearest', 'raster-fade-duration': 0, 'raster-opacity': this.opacity() },
        },
        'cells-selected',
      );
    }
    m.setLayoutProperty('cells-raster', 'visibility', this.$<HTMLInputElement>('#l-cells').checked ? 'visible' : 'none');
  }

  private opacity(): number {
    return Number(this.$<HTMLInputElement>('#l-opacity').value) / 100;
  }

  private fitToCells(): void {
    const feats = this.forecast?.geojson.features ?? [];
    if (!feats.length) return;
    let x0 = 180,
      y0 = 90,
      x1 = -180,
      y1 = -90;
    for (const f of feats) {
      const { lon, lat } = f.properties;
      if (lon < x0) x0 = lon;
      if (lon > x1) x1 = lon;
      if (lat < y0) y0 = lat;
      if (lat > y1) y1 = lat;
    }
    this.map.fitBounds([x0, y0, x1, y1], { padding: 20, animate: false });
  }

  private async loadHotspots(seq: number): Promise<void> {
    const p = this.forecastParams;
    try {
      const h = await getJson<Hotspots>('/api/hotspots', {
        model: p.model,
        horizon: p.horizon,
        cell: p.cell,
        category: p.category || undefined,
        at: p.at || undefined,
        n: 20,
      });
      if (seq !== this.loadSeq) return;
      this.hotspots = h.hotspots;
      this.renderHotspots(h);
    } catch (e) {
      this.$('#panel-hot').innerHTML = `<p class="error">Hotspots failed: ${esc((e as Error).message)}</p>`;
    }
  }

  private renderHotspots(h: Hotspots): void {
    const items = h.hotspots
      .map(
        (s) => `<li><button type="button" class="hotspot" data-cell="${esc(s.cell_id)}" aria-pressed="false">
          <span class="rank">${s.rank}</span>
          <span class="hs-main"><strong>${fmt(s.risk)}</strong> expected · ${esc(bandLabel(s.band))}<br>
          <span class="reason">${esc(s.reason)}</span></span></button></li>`,
      )
      .join('');
    this.$('#panel-hot').innerHTML = `<p class="muted small">Top ${h.hotspots.length} of ${h.active_cells} active cells · ${esc(h.model_used)} · ${esc(
      h.horizon,
    )}${h.stale ? ' · stale' : ''}. <kbd>n</kbd>/<kbd>N</kbd> next/previous.</p><ol class="hotspots">${items}</ol>`;
    this.root.querySelectorAll<HTMLButtonElement>('button.hotspot').forEach((b) =>
      b.addEventListener('click', () => void this.selectCell(b.dataset.cell!, true)),
    );
  }

  // Selects a cell: highlights it on the map and in the hotspot list, loads its explanation.
  async selectCell(cellId: string, fly: boolean): Promise<void> {
    const m = this.map;
    this.selected = cellId;
    const feat = this.cellIndex.get(cellId);
    (m.getSource('selected') as maplibregl.GeoJSONSource).setData({ type: 'FeatureCollection', features: feat ? [feat] : [] });
    this.root.querySelectorAll<HTMLButtonElement>('button.hotspot').forEach((b) => {
      const on = b.dataset.cell === cellId;
      b.setAttribute('aria-pressed', String(on));
      b.classList.toggle('selected', on);
      if (on && !fly) b.scrollIntoView({ block: 'nearest' });
    });
    if (fly) {
      const h = this.hotspots.find((x) => x.cell_id === cellId);
      const c = h ? [h.lon, h.lat] : feat ? [feat.properties.lon, feat.properties.lat] : null;
      if (c) m.flyTo({ center: c as [number, number], zoom: Math.max(m.getZoom(), 15), duration: 800 });
    }
    const panel = this.$('#panel-cell');
    panel.innerHTML = '<p class="muted">Loading the explanation…</p>';
    if (fly) this.showTab('#panel-hot');
    else this.showTab('#panel-cell');
    const p = this.forecastParams;
    const t0 = performance.now();
    try {
      const c = await getJson<CellExplanation>(`/api/cells/${encodeURIComponent(cellId)}`, {
        model: p.model,
        horizon: p.horizon,
        category: p.category || undefined,
        at: p.at || undefined,
      });
      if (this.selected !== cellId) return;
      panel.innerHTML = cellHtml(c, this.recordLevel);
      this.metrics.cellAnswerMs = performance.now() - t0;
      panel.dataset.cell = cellId;
      if (fly) this.showTab('#panel-cell');
    } catch (e) {
      panel.innerHTML = `<p class="error">${esc((e as Error).message)}</p>`;
    }
  }

  stepHotspot(delta: number): void {
    if (!this.hotspots.length) return;
    const i = this.hotspots.findIndex((h) => h.cell_id === this.selected);
    const next = this.hotspots[(i + delta + this.hotspots.length) % this.hotspots.length];
    void this.selectCell(next.cell_id, true);
    (this.root.querySelector(`button.hotspot[data-cell="${next.cell_id}"]`) as HTMLElement | null)?.focus();
  }

  private async loadEvents(seq: number): Promise<void> {
    this.events.clear();
    this.eventsTruncated = false;
    const from = new Date(this.windowFrom).toISOString().slice(0, 19) + 'Z';
    const to = new Date(this.windowTo).toISOString().slice(0, 19) + 'Z';
    let offset: number | null = 0;
    // At most 5 pages of 10,000: beyond that the map would be a blur of clusters anyway.
    for (let page = 0; offset !== null && page < 5; ++page) {
      try {
        const r: GeoJSON.FeatureCollection<GeoJSON.Point | null, EventProps> & { next_offset: number | null } = await getJson(
          '/api/events',
          { from, to, located_only: 'true', format: 'geojson', limit: 10000, offset },
        );
        if (seq !== this.loadSeq) return;
        for (const f of r.features) this.addEvent(f.properties, false);
        offset = r.next_offset;
      } catch (e) {
        this.status(`Events failed: ${(e as Error).message}`, true);
        return;
      }
    }
    this.eventsTruncated = offset !== null;
    const span = Math.round((this.windowTo - this.windowFrom) / kDay);
    const end = this.$<HTMLInputElement>('#e-end');
    end.max = String(span);
    end.value = String(span);
    this.refreshEventSource();
  }

  private addEvent(e: EventProps, live: boolean): Pt | null {
    if (e.lon === null || e.lat === null || e.lon === undefined) return null;
    const key = `${e.source}\u0000${e.id}`;
    const f: Pt = {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [e.lon, e.lat] },
      properties: { ...e, key, t: Date.parse(e.time_start), exact: e.quality === 'exact' ? 1 : 0, live: live ? 1 : 0 },
    };
    this.events.set(key, f);
    return f;
  }

  // Applies the time slider and category filter. Clustering needs the filtered set as the
  // source's data (a layer filter would still count hidden points in the clusters).
  private refreshEventSource(): void {
    if (!this.recordLevel) return;
    const span = Number(this.$<HTMLSelectElement>('#e-span').value) * kDay;
    const endEl = this.$<HTMLInputElement>('#e-end');
    const atEnd = endEl.value === endEl.max;
    // At the right end the window ends at the latest event (live ones included), so "the last
    // 7 days" means the 7 days of data before now, not the empty days of the forecast horizon.
    let latest = this.windowFrom;
    if (atEnd) for (const f of this.events.values()) latest = Math.max(latest, f.properties.t);
    const end = atEnd ? latest : this.windowFrom + Number(endEl.value) * kDay;
    const cats = new Set(
      Array.from(this.root.querySelectorAll<HTMLInputElement>('input[name=evcat]:checked')).map((el) => el.value),
    );
    this.$('#e-end-label').textContent = atEnd ? 'the latest' : new Date(end).toISOString().slice(0, 10);
    const feats: Pt[] = [];
    for (const f of this.events.values()) {
      const p = f.properties;
      if (!cats.has(p.category)) continue;
      // Live events always show while the slider follows the latest day.
      if (p.live && atEnd) {
        feats.push(f);
        continue;
      }
      if (p.t > end || p.t < end - span) continue;
      feats.push(f);
    }
    (this.map.getSource('events') as maplibregl.GeoJSONSource | undefined)?.setData({ type: 'FeatureCollection', features: feats });
    this.visibleEvents = feats;
    this.$('#e-count').textContent = `${feats.length} of ${this.events.size} events shown${
      this.eventsTruncated ? ' (window truncated at 50,000: narrow it)' : ''
    }`;
  }

  private visibleEvents: Pt[] = [];

  private applyLayerVisibility(): void {
    const cells = this.$<HTMLInputElement>('#l-cells').checked;
    for (const l of ['cells-fill', 'cells-selected', 'cells-raster']) {
      if (this.map.getLayer(l)) this.map.setLayoutProperty(l, 'visibility', cells && (l !== 'cells-raster' || this.raster) ? 'visible' : 'none');
    }
    if (this.recordLevel) {
      const ev = this.$<HTMLInputElement>('#l-events').checked;
      for (const l of ['events-clusters', 'events-exact', 'events-approx']) this.map.setLayoutProperty(l, 'visibility', ev ? 'visible' : 'none');
      this.updateClusterMarkers();
    }
  }

  private applyOpacity(): void {
    const v = Number(this.$<HTMLInputElement>('#l-opacity').value) / 100;
    this.map.setPaintProperty('cells-fill', 'fill-opacity', bandOpacityExpression(v) as maplibregl.ExpressionSpecification);
    if (this.map.getLayer('cells-raster')) this.map.setPaintProperty('cells-raster', 'raster-opacity', v);
  }

  toggle(id: string): void {
    const el = this.root.querySelector<HTMLInputElement>(id);
    if (!el) return;
    el.checked = !el.checked;
    el.dispatchEvent(new Event('change'));
  }

  nudgeOpacity(delta: number): void {
    const el = this.$<HTMLInputElement>('#l-opacity');
    el.value = String(Math.min(100, Math.max(0, Number(el.value) + delta)));
    this.applyOpacity();
  }

  // ---- boundaries ----
  private async refreshBoundaries(): Promise<void> {
    if (this.destroyed) return;
    const m = this.map;
    this.cfg.boundaries.forEach((b, i) => {
      const on = this.boundaryOn.has(b.name);
      const id = `boundary-${b.name}`;
      if (!on) {
        if (m.getLayer(id)) m.setLayoutProperty(id, 'visibility', 'none');
        return;
      }
      const bb = m.getBounds();
      const bbox = [bb.getWest(), bb.getSouth(), bb.getEast(), bb.getNorth()].map((v) => v.toFixed(5)).join(',');
      void getJson<GeoJSON.FeatureCollection>('/api/boundaries', { layer: b.name, bbox })
        .then((fc) => {
          if (this.destroyed) return; // the page changed while the request was in flight
          if (!m.getSource(id)) {
            m.addSource(id, { type: 'geojson', data: fc });
            m.addLayer(
              {
                id,
                type: 'line',
                source: id,
                paint: { 'line-color': kBoundaryColors[i % 4], 'line-width': i === 0 ? 1 : 2.5, 'line-opacity': 0.8 },
              },
              m.getLayer('events-clusters') ? 'events-clusters' : undefined,
            );
          } else {
            (m.getSource(id) as maplibregl.GeoJSONSource).setData(fc);
            m.setLayoutProperty(id, 'visibility', 'visible');
          }
        })
        .catch((e: Error) => {
          if (!this.destroyed) this.status(`Boundaries (${b.name}) failed: ${e.message}`, true);
        });
    });
  }

  // ---- live ----
  setLive(on: boolean): void {
    if (!on) {
      this.live?.close();
      this.live = null;
      return;
    }
    if (this.live) return;
    // EventSource cannot send headers: the session cookie set at sign-in authenticates it
    // (docs/api.md, accepted for GET only).
    const es = new EventSource('/api/live');
    this.live = es;
    es.addEventListener('hello', () => this.feed('Connected to the live stream', 'info'));
    es.addEventListener('events', (m) => this.onLiveEvents(JSON.parse((m as MessageEvent).data)));
    es.addEventListener('forecast', (m) => this.onLiveForecast(JSON.parse((m as MessageEvent).data)));
    es.addEventListener('alert', (m) => {
      const a = JSON.parse((m as MessageEvent).data);
      this.feed(`Alert: cell ${a.cell_id} entered the top 1 % (${fmt(a.risk)} expected)`, 'alert', a.cell_id);
    });
    es.addEventListener('shutdown', () => this.feed('The server is shutting down; reconnecting when it is back', 'info'));
    es.onerror = () => {
      if (!currentSession()) es.close();
    };
  }

  private onLiveEvents(msg: { batch: number; inserted: number; events?: EventProps[]; truncated?: boolean }): void {
    const now = performance.now();
    const fresh: EventProps[] = msg.events ?? [];
    for (const e of fresh) {
      this.addEvent(e, true);
      this.feed(`${e.category} · ${e.time_start.replace('T', ' ').slice(0, 16)} · ${e.quality === 'exact' ? 'exact' : 'approx.'}`, 'event', undefined, e);
    }
    if (msg.truncated) this.feed(`Batch ${msg.batch}: ${msg.inserted} new events (too many to list)`, 'info');
    this.metrics.lastLiveEventsAt = now;
    this.refreshEventSource();
  }

  private forecastKey(): string {
    const p = this.forecastParams;
    const order = new Map(this.cfg.categories.map((c, i) => [c.slug, i]));
    const cats = p.category
      ? p.category
          .split(',')
          .sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))
          .join(',')
      : '';
    return `${p.model}|live|${p.horizon}|${p.cell}|*|${cats}`;
  }

  // Live message keys are "model|live|horizon|cell|epsg|categories" (server/forecasts.cpp); the
  // client never picks a CRS, so any EPSG (the data's default) matches.
  private keyMatches(key: string): boolean {
    const a = key.split('|');
    const b = this.forecastKey().split('|');
    return a.length === b.length && a.every((x, i) => i === 4 || x === b[i]);
  }

  private onLiveForecast(msg: {
    key: string;
    refit?: boolean;
    changed?: { cell_id: string; risk: number; recent: number; band: number }[];
    changed_cells?: number;
  }): void {
    if (this.forecastParams.at || !this.keyMatches(msg.key)) return; // another forecast
    if (msg.refit) {
      this.feed('The model was refit with the new events: reloading the forecast', 'info');
      void this.loadAll();
      return;
    }
    for (const c of msg.changed ?? []) {
      if (this.raster) {
        // Image mode: the cell's properties are updated in place and its pixel repainted.
        const cell = this.cellIndex.get(c.cell_id);
        if (!cell) continue;
        cell.properties.band = c.band;
        cell.properties.risk = c.risk;
        cell.properties.recent = c.recent;
        this.raster.paint(cell);
      } else {
        this.map.setFeatureState({ source: 'forecast', id: c.cell_id }, { band: c.band, risk: c.risk });
      }
    }
    if (this.raster) this.showRaster();
    this.metrics.lastLiveForecastAt = performance.now();
    this.feed(`${msg.changed_cells ?? msg.changed?.length ?? 0} cells recoloured (near-repeat update)`, 'forecast');
  }

  private feed(text: string, kind: string, cellId?: string, ev?: EventProps): void {
    const list = this.$('#feed');
    this.$('#feed-empty').hidden = true;
    const li = document.createElement('li');
    li.className = `feed-${kind}`;
    const time = new Date().toLocaleTimeString('en-GB');
    if (cellId || ev) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = `${time} ${text}`;
      b.addEventListener('click', () => {
        if (cellId) void this.selectCell(cellId, true);
        else if (ev && ev.lon !== null && ev.lat !== null) this.map.flyTo({ center: [ev.lon, ev.lat], zoom: 16 });
      });
      li.append(b);
    } else {
      li.textContent = `${time} ${text}`;
    }
    list.prepend(li);
    while (list.children.length > 200) list.lastElementChild?.remove();
    if (kind !== 'info') {
      this.liveCount += 1;
      this.$('#feed-count').textContent = String(this.liveCount);
    }
  }

  // ---- export ----
  snapshot(): ViewSnapshot {
    const b = this.map.getBounds();
    const inView = (lon: number, lat: number) => lon >= b.getWest() && lon <= b.getEast() && lat >= b.getSouth() && lat <= b.getNorth();
    const cells = (this.forecast?.geojson.features ?? [])
      .filter((f) => inView(f.properties.lon, f.properties.lat))
      .map((f) => {
        const st = this.raster ? {} : this.map.getFeatureState({ source: 'forecast', id: f.properties.cell_id });
        return st.band !== undefined ? { ...f, properties: { ...f.properties, band: st.band, risk: st.risk ?? f.properties.risk } } : f;
      });
    const events = this.recordLevel
      ? this.visibleEvents.filter((f) => inView(f.geometry.coordinates[0], f.geometry.coordinates[1]))
      : [];
    const s = currentSession();
    return {
      params: { ...this.forecastParams },
      modelUsed: this.forecast?.modelUsed ?? '',
      origin: this.forecast?.origin ?? '',
      stale: this.forecast?.stale ?? false,
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
      cells,
      events,
      hotspots: this.hotspots.filter((h) => inView(h.lon, h.lat)),
      user: s?.user ?? '',
      role: s?.role ?? '',
      purpose: s?.purpose ?? '',
      recordLevel: this.recordLevel,
    };
  }

  destroy(): void {
    this.destroyed = true;
    this.setLive(false);
    this.map?.remove();
  }
}
