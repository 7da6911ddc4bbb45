// End-to-end test of the web client: real `crimecast serve`, real (simulated) data, Debian's
// Chromium driven by playwright-core. Run by tests/web/run-e2e.sh (ctest label e2e):
//   node tests/e2e.mjs --cli build/.../crimecast --out build/.../web-e2e
// Screenshots go to OUT/web-screenshots/ and their paths are printed.
import fs from 'node:fs';
import path from 'node:path';

import { apiSignIn, arg, boundaryArgs, check, fail, launchBrowser, log, makeStore, passwords, startServer, waitForCells } from './harness.mjs';

const cli = arg('cli');
const out = path.resolve(arg('out', 'e2e-out'));
if (!cli) fail('--cli PATH is required');
const shots = path.join(out, 'web-screenshots');
fs.rmSync(shots, { recursive: true, force: true });
fs.mkdirSync(shots, { recursive: true });
const screenshots = [];
async function shot(page, name, what) {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file });
  screenshots.push([file, what]);
}

log('building the store with the simulator');
const db = makeStore(cli, out, { days: 120, mu: 40 });
const bounds = boundaryArgs(out);
log(`boundaries: ${bounds.kind}`);
const server = await startServer(cli, db, bounds.args);
log(`server at ${server.url}`);
const browser = await launchBrowser();
const results = {};
// The map's next `idle` (a repaint is requested, so this also returns when it is idle already).
const idle = (page) =>
  page.evaluate(
    () =>
      new Promise((r) => {
        const m = window.crimecast.map.map;
        m.once('idle', r);
        m.triggerRepaint();
      }),
  );

try {
  // ---------------- analyst ----------------
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('crash', () => log('the page crashed'));
  browser.on('disconnected', () => log('the browser disconnected'));

  await page.goto(server.url + '/');
  await page.fill('#user', 'e2e-analyst');
  await page.fill('#password', 'wrong password');
  await page.fill('#purpose', 'end-to-end test');
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#signin .error');
  check((await page.textContent('#signin .error')).length > 0, 'a wrong password shows an error on the sign-in page');
  consoleErrors.length = 0; // the browser logs that deliberate 401
  await page.fill('#user', 'e2e-analyst');
  await page.fill('#password', passwords.analyst);
  await page.fill('#purpose', 'end-to-end test');
  await page.click('#signin button[type=submit]');
  let m = await waitForCells(page);
  check(m.cells > 100, `the analyst's map draws the default forecast (${m.cells} cells)`);

  // A self-exciting model (SEPP), so that live events also recolour cells (on this simulated city grid ETAS at 150 m falls back to naive-decay: the near-repeat spread, about 90 m, is below one cell).
  await page.selectOption('#f-model', 'sepp');
  await page.click('#forecast-form button[type=submit]');
  await page.waitForFunction((n) => window.crimecast.map.metrics.idleCount > n, m.idleCount ?? 1, { timeout: 120000 });
  await page.waitForFunction(() => document.querySelectorAll('button.hotspot').length > 0, null, { timeout: 60000 });
  m = await page.evaluate(() => ({ ...window.crimecast.map.metrics }));
  check(m.cells > 100, `sepp forecast drawn (${m.cells} cells)`);
  // Hotspots and events are fetched once the cells are drawn.
  await page.waitForFunction(() => window.crimecast.map.events.size > 0 && window.crimecast.map.visibleEvents.length > 0, null, { timeout: 60000 });
  const eventCount = await page.evaluate(() => window.crimecast.map.events.size);
  check(eventCount > 100, `events of the window loaded for clustering (${eventCount})`);
  await page.waitForFunction(() => document.querySelectorAll('.cluster-count').length > 0, null, { timeout: 10000 });
  check(true, 'cluster counts drawn as HTML markers');
  await shot(page, '01-analyst-map', 'analyst: sepp risk cells by band, clustered events with counts, legend, hotspot list');

  // Layers on and off.
  await page.click('#l-cells');
  check((await page.evaluate(() => window.crimecast.map.map.getLayoutProperty('cells-fill', 'visibility'))) === 'none', 'risk cells toggle off');
  await page.keyboard.press('Escape');
  await page.locator('body').focus();
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('c');
  check((await page.evaluate(() => window.crimecast.map.map.getLayoutProperty('cells-fill', 'visibility'))) === 'visible', 'keyboard shortcut c toggles them back on');
  await page.click('#l-events');
  check((await page.evaluate(() => window.crimecast.map.map.getLayoutProperty('events-exact', 'visibility'))) === 'none', 'events toggle off');
  await shot(page, '02-analyst-cells-only', 'analyst: events layer switched off, risk cells only');
  await page.click('#l-events');
  await page.fill('#l-opacity', '40');
  {
    // fill-opacity = slider x the band's alpha (low-risk cells drawn faintly).
    const op = await page.evaluate(() => window.crimecast.map.map.getPaintProperty('cells-fill', 'fill-opacity'));
    check(Array.isArray(op) && op[0] === '*' && Math.abs(op[1] - 0.4) < 1e-9, 'opacity slider sets the cell opacity');
    check(JSON.stringify(op).includes('0.3'), 'cells below the top 10 % are drawn at 0.3 of the opacity');
  }

  // Boundaries.
  const layers = await page.$$eval('[data-boundary]', (els) => els.map((e) => e.dataset.boundary));
  check(layers.length > 0, `boundary layers offered: ${layers.join(', ')}`);
  for (const l of layers) await page.check(`[data-boundary="${l}"]`);
  await page.waitForFunction(
    (ls) => ls.every((l) => window.crimecast.map.map.getSource(`boundary-${l}`) && window.crimecast.map.map.querySourceFeatures(`boundary-${l}`).length > 0),
    layers,
    { timeout: 30000 },
  );
  const nb = await page.evaluate(
    (ls) => ls.map((l) => window.crimecast.map.map.querySourceFeatures(`boundary-${l}`).length),
    layers,
  );
  check(nb.every((n) => n > 0), `boundary features on the map (${nb.join(', ')})`);
  await idle(page);
  await shot(page, '03-analyst-boundaries', 'analyst: boundary overlays (' + layers.join(', ') + ') over the risk cells');

  // Time slider and category filter.
  const total = await page.evaluate(() => window.crimecast.map.visibleEvents.length);
  await page.selectOption('#e-span', '7');
  const week = await page.evaluate(() => window.crimecast.map.visibleEvents.length);
  check(week > 0 && week < total, `time window of 7 days shows fewer events (${week} of ${total})`);
  await page.click('#event-filters summary');
  await page.click('#e-none');
  check((await page.evaluate(() => window.crimecast.map.visibleEvents.length)) === 0, 'category filter: none selected shows no events');
  await page.check('input[name=evcat][value=burglary]');
  const burg = await page.evaluate(() => window.crimecast.map.visibleEvents.every((f) => f.properties.category === 'burglary'));
  check(burg, 'category filter: only burglary shown');
  await page.click('#e-all');
  await page.selectOption('#e-span', '90');

  // Hotspot list -> map, and map -> explanation.
  await page.click('button.hotspot >> nth=0');
  await page.waitForSelector('#panel-cell .expected', { timeout: 30000 });
  const selectedFromList = await page.evaluate(() => window.crimecast.map.selected);
  check(!!selectedFromList, `clicking hotspot 1 selects its cell ${selectedFromList}`);
  check((await page.getAttribute('button.hotspot >> nth=0', 'aria-pressed')) === 'true', 'the hotspot list item is highlighted');
  const panelText = await page.textContent('#panel-cell');
  check(/90 % interval/.test(panelText) && /Long-term background/.test(panelText) && /Recent nearby events/.test(panelText), 'the explanation shows the interval, background and recent parts');
  check((await page.$('#panel-cell svg.sparkline')) !== null, 'the explanation has a history sparkline');
  {
    // The area covariate layer stored with `crimecast layers add` (harness: sim_score = 7).
    const cov = await page.textContent('#panel-cell table.covariates').catch(() => '');
    check(/sim_score/.test(cov ?? '') && /7\.0000/.test(cov ?? '') && /points/.test(cov ?? ''), `the explanation lists the cell's area covariates (${(cov ?? '').replace(/\s+/g, ' ').trim()})`);
  }
  // The 90 % interval against an independent Poisson quantile (and hand-worked values: for mean 1
  // P(X<=2) = 0.920 < 0.95 <= P(X<=3) = 0.981; for mean 10 the 5 % and 95 % quantiles are 5, 15).
  const quantile = (mean, q) => {
    let k = 0;
    let p = Math.exp(-mean);
    let cdf = p;
    while (cdf < q) {
      k += 1;
      p *= mean / k;
      cdf += p;
    }
    return k;
  };
  check(quantile(1, 0.05) === 0 && quantile(1, 0.95) === 3 && quantile(10, 0.05) === 5 && quantile(10, 0.95) === 15, 'reference Poisson quantiles match hand-worked values');
  const risk1 = await page.evaluate(() => window.crimecast.map.hotspots[0].risk);
  const shown = /90 % interval: (\d+)–(\d+)/.exec(await page.textContent('#panel-cell .expected'));
  check(shown && Number(shown[1]) === quantile(risk1, 0.05) && Number(shown[2]) === quantile(risk1, 0.95), `the panel's 90 % interval ${shown?.[1]}–${shown?.[2]} is the Poisson(${risk1.toFixed(3)}) 5 %–95 % quantiles`);
  {
    // The fitted parameters (sepp: theta, omega, sigma, ...) are listed, collapsed.
    const params = await page.textContent('#panel-cell details.params').catch(() => '');
    check(/theta/.test(params ?? ''), 'the explanation lists the fitted model parameters (theta)');
  }
  await idle(page);
  await shot(page, '04-analyst-cell-explanation', 'analyst: hotspot 1 selected, map flown to it, explanation panel with 90 % interval, parts, sparkline, nearby events');

  // Click a cell directly on the map (the second hotspot's centre): the list follows.
  const second = await page.evaluate(() => {
    const h = window.crimecast.map.hotspots[1];
    window.crimecast.map.map.jumpTo({ center: [h.lon, h.lat], zoom: 14 });
    return h.cell_id;
  });
  await page.evaluate(() => window.crimecast.map.toggle('#l-events'));
  await idle(page);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction((id) => document.querySelector('#panel-cell')?.dataset.cell === id, second, { timeout: 30000 });
  check((await page.getAttribute(`button.hotspot[data-cell="${second}"]`, 'aria-pressed')) === 'true', 'clicking a cell on the map highlights its hotspot list item');
  await page.evaluate(() => window.crimecast.map.toggle('#l-events'));

  // Live: post an event at the selected hotspot and time until it is drawn on the map.
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('crimecast.session')).token);
  const live = await page.evaluate(
    async ({ token }) => {
      const mv = window.crimecast.map;
      const h = mv.hotspots[0];
      mv.map.jumpTo({ center: [h.lon, h.lat], zoom: 17 });
      await new Promise((r) => {
        mv.map.once('idle', r);
        mv.map.triggerRepaint();
      });
      const origin = Date.parse(mv.forecast.origin);
      const id = 'e2e-live-' + Math.random().toString(36).slice(2);
      const body = [
        { id, category: 'burglary', time: new Date(origin + 3600e3).toISOString(), lon: h.lon, lat: h.lat, quality: 'exact' },
        { id: id + '-s', category: 'burglary', time: new Date(origin + 3700e3).toISOString(), lon: h.lon + 0.0004, lat: h.lat, quality: 'snapped' },
      ];
      const t0 = performance.now();
      const r = await fetch('/api/events', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token }, body: JSON.stringify(body) });
      const tPosted = performance.now();
      const reply = await r.json();
      const drawn = () => mv.map.queryRenderedFeatures({ layers: ['events-exact', 'events-approx'] }).filter((f) => f.properties.id === id || f.properties.id === id + '-s').length;
      let tDrawn = null;
      while (performance.now() - t0 < 5000) {
        if (drawn() === 2) {
          tDrawn = performance.now();
          break;
        }
        await new Promise((r) => requestAnimationFrame(r));
      }
      // Changed cells recolour (grid ETAS: the near-repeat term), without a reload.
      let tRecolour = null;
      while (performance.now() - t0 < 5000) {
        if (mv.metrics.lastLiveForecastAt > t0) {
          tRecolour = mv.metrics.lastLiveForecastAt;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const approx = mv.map.queryRenderedFeatures({ layers: ['events-approx'] }).some((f) => f.properties.id === id + '-s');
      return {
        status: r.status,
        inserted: reply.inserted,
        postMs: tPosted - t0,
        drawnMs: tDrawn === null ? null : tDrawn - t0,
        recolourMs: tRecolour === null ? null : tRecolour - t0,
        approxHollow: approx,
        feed: document.querySelectorAll('#feed li.feed-event').length,
      };
    },
    { token },
  );
  log('live:', JSON.stringify(live));
  check(live.status === 200 && live.inserted === 2, 'POST /api/events accepted 2 events');
  check(live.drawnMs !== null && live.drawnMs < 2000, `the posted events appear on the map within 2 s (${live.drawnMs?.toFixed(0)} ms after the POST, ${live.postMs.toFixed(0)} ms of it the POST itself)`);
  check(live.approxHollow, 'the snapped event is drawn in the approximate (hollow) style');
  check(live.feed >= 2, 'the live feed lists the new events');
  check(live.recolourMs !== null, `changed cells recoloured from /api/live (${live.recolourMs?.toFixed(0)} ms after the POST)`);
  results.liveDrawnMs = live.drawnMs;
  results.liveRecolourMs = live.recolourMs;
  await page.click('#tab-feed');
  await shot(page, '05-analyst-live', 'analyst: zoomed to hotspot 1 after POST /api/events: new exact (filled) and snapped (hollow) events in live colour, live feed list');

  // Exports.
  await page.evaluate(() => window.crimecast.map.map.jumpTo({ zoom: 13 }));
  await idle(page);
  for (const [button, ext] of [
    ['#x-geojson', 'geojson'],
    ['#x-csv', 'csv'],
    ['#x-png', 'png'],
  ]) {
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.click(button)]);
    const file = path.join(shots, `export.${ext}`);
    await dl.saveAs(file);
    const size = fs.statSync(file).size;
    if (ext === 'geojson') {
      const fc = JSON.parse(fs.readFileSync(file, 'utf8'));
      check(fc.features.some((f) => f.properties.kind === 'cell') && fc.crimecast.model_used, `GeoJSON export holds the cells in view (${fc.features.length} features)`);
    } else if (ext === 'csv') {
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      check(lines[1].startsWith('kind,cell_id') && lines.length > 3, `CSV export (${lines.length - 2} rows)`);
    } else {
      check(size > 20000, `briefing PNG (${size} bytes)`);
      screenshots.push([file, 'exported one-page shift briefing (PNG): map, legend, hotspots in view']);
    }
  }
  await page.evaluate(() => {
    window.print = () => {};
  });
  await page.click('#x-print');
  await page.waitForSelector('#briefing img', { state: 'attached' });
  await page.waitForFunction(() => document.querySelector('#briefing img').complete);
  await page.emulateMedia({ media: 'print' });
  await shot(page, '06-print-briefing', 'print stylesheet: the one-page briefing as printed');
  await page.emulateMedia({ media: 'screen' });

  // Keyboard help.
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('?');
  check(await page.isVisible('#help'), 'the ? key opens the keyboard help');
  await shot(page, '07-keyboard-help', 'keyboard shortcut help overlay');
  await page.keyboard.press('Escape');
  check(!(await page.isVisible('#help')), 'Escape closes it');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.tagName);
  check(['A', 'BUTTON', 'INPUT', 'SELECT'].includes(focused), `Tab moves focus to a control (${focused})`);

  // Tablet sizes.
  for (const [w, h] of [
    [1024, 768],
    [768, 1024],
  ]) {
    await page.setViewportSize({ width: w, height: h });
    await page.evaluate(() => window.crimecast.map.map.resize());
    await idle(page);
    const mapBox = await page.locator('#map').boundingBox();
    const side = await page.locator('aside.side').boundingBox();
    const ctl = await page.locator('aside.controls').boundingBox();
    const inside = (b) => b.x >= 0 && b.y >= 0 && b.x + b.width <= w + 1 && b.width > 150 && b.height > 150;
    check(inside(mapBox) && inside(side) && inside(ctl), `${w}x${h}: map, controls and details all on screen`);
    await shot(page, `08-tablet-${w}x${h}`, `analyst at ${w}x${h} (tablet ${w > h ? 'landscape' : 'portrait'})`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });

  // Backtest page: a small job, progress, charts and table.
  await page.click('#nav-backtest');
  await page.waitForSelector('#bt-form');
  await page.evaluate(() => {
    document.querySelectorAll('input[name=bt-model]').forEach((el) => (el.checked = ['naive-all', 'kde'].includes(el.value)));
  });
  await page.fill('#bt-cell', '500');
  await page.waitForFunction(() => document.querySelector('#bt-to').value < '2025-05');
  await page.click('#bt-form button[type=submit]');
  await page.waitForSelector('#bt-result table.bt-table', { timeout: 240000 });
  const btRows = await page.$$eval('#bt-result table.bt-table tbody tr', (r) => r.length);
  check(btRows === 2, 'backtest finished: PAI / PEI* table with one row per model');
  check((await page.$$('#bt-result svg.chart polyline')).length === 2, 'hit rate against coverage drawn for both models');
  check((await page.$$('#bt-result svg.chart circle')).length > 0, 'calibration plot drawn');
  await shot(page, '09-backtest', 'backtest page: hit rate vs coverage per model, calibration plot, PAI / PEI* table');
  check(consoleErrors.length === 0, `no console errors in the analyst session${consoleErrors.length ? ': ' + consoleErrors.join(' | ') : ''}`);

  // Sign out.
  await page.click('#signout');
  await page.waitForSelector('#signin');
  check((await page.evaluate(() => sessionStorage.getItem('crimecast.session'))) === null, 'sign-out clears the session');
  await ctx.close();

  // ---------------- partner ----------------
  const pctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const pp = await pctx.newPage();
  const requests = [];
  pp.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await pp.goto(server.url + '/#/map');
  await pp.fill('#user', 'e2e-partner');
  await pp.fill('#password', passwords.partner);
  await pp.fill('#purpose', 'council community-safety planning');
  await pp.click('#signin button[type=submit]');
  const pm = await waitForCells(pp);
  check(pm.cells > 0, `the partner sees aggregate cells (${pm.cells})`);
  const cellSizes = await pp.$$eval('#f-cell option', (o) => o.map((x) => Number(x.value)));
  check(cellSizes.every((c) => c >= 500), `partner cell sizes are all >= 500 m (${cellSizes.join(', ')})`);
  const sizes = await pp.evaluate(() => [...new Set(window.crimecast.map.forecast.geojson.features.map((f) => f.properties.size_m))]);
  check(sizes.every((s) => s >= 500), `drawn cells are >= 500 m (${sizes.join(', ')})`);
  await pp.waitForFunction(() => document.querySelectorAll('button.hotspot').length > 0, null, { timeout: 30000 });
  await pp.click('button.hotspot >> nth=0');
  await pp.waitForSelector('#panel-cell .expected', { timeout: 30000 });
  await pp.waitForTimeout(500);
  const noPoints = await pp.evaluate(() => {
    const m = window.crimecast.map.map;
    return !m.getSource('events') && !m.getLayer('events-exact') && !m.getLayer('events-clusters') && document.querySelectorAll('.cluster-count').length === 0;
  });
  check(noPoints, 'the partner map has no event source, no point layers and no clusters');
  check(!requests.includes('/api/events'), 'the partner client never requests /api/events');
  check((await pp.$('#l-events')) === null && (await pp.$('#event-filters')) === null, 'no event controls for the partner');
  check((await pp.$('#panel-cell table.events')) === null, 'the partner explanation lists no individual events');
  const direct = await pp.evaluate(async () => {
    const t = JSON.parse(sessionStorage.getItem('crimecast.session')).token;
    return (await fetch('/api/events', { headers: { Authorization: 'Bearer ' + t } })).status;
  });
  check(direct === 403, 'and the server refuses record-level data to a partner (403)');
  await shot(pp, '10-partner', 'partner (council): 500 m aggregate cells only, no points, aggregates-only note, explanation without events');
  await pctx.close();
} finally {
  await browser.close();
  await server.stop();
}

console.log('\n[web] screenshots:');
for (const [file, what] of screenshots) console.log(`  ${file}  (${what})`);
console.log(`[web] event-to-map latency: ${results.liveDrawnMs?.toFixed(0)} ms (target < 2000 ms); cells recoloured after ${results.liveRecolourMs?.toFixed(0)} ms`);
console.log(process.exitCode ? '[web] e2e FAILED' : '[web] e2e passed');
