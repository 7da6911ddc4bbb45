// Time until the map is interactive with >= 50,000 forecast cells, from a local server.
//   node tests/interactive.mjs --cli PATH --out DIR [--cell 40] [--runs 3]
// The store is the demo city (10 km x 10 km); KDE at 40 m cells gives a risk above zero almost
// everywhere in it, i.e. about 60,000 cells (the run fails if fewer than 50,000 arrive). The
// forecast is fitted once before timing (the server caches it), so the figure is what an analyst
// waits for when opening the map: navigation -> page, map, /api/config, /api/forecast (the
// GeoJSON of every cell), parse, tile in the worker, draw -> the map's `idle` event with the
// cells drawn, then a click on a cell answered with its explanation panel. Target: under 2 s.
import fs from 'node:fs';
import path from 'node:path';

import { apiSignIn, arg, check, fail, launchBrowser, log, makeStore, signedInContext, startServer, waitForCells } from './harness.mjs';

const cli = arg('cli');
const out = path.resolve(arg('out', 'interactive-out'));
const cell = Number(arg('cell', '40'));
const runs = Number(arg('runs', '3'));
const model = arg('model', 'kde');
if (!cli) fail('--cli PATH is required');
const kTargetMs = 2000;

const db = makeStore(cli, out, { days: 120, mu: 40, seed: 5 });
const server = await startServer(cli, db);
const browser = await launchBrowser();
try {
  const s = await apiSignIn(server.url, 'analyst');
  const q = `model=${model}&horizon=7d&cell=${cell}`;
  let t = performance.now();
  const warm = await fetch(`${server.url}/api/forecast?${q}`, { headers: { Authorization: 'Bearer ' + s.token } });
  const body = await warm.text();
  if (warm.status !== 200) fail(`forecast: HTTP ${warm.status} ${body.slice(0, 300)}`);
  const cells = JSON.parse(body).features.length;
  log(`first request (model fit + ${cells} cells, ${(body.length / 1e6).toFixed(1)} MB GeoJSON): ${(performance.now() - t).toFixed(0)} ms`);
  check(cells >= 50000, `the forecast has >= 50,000 cells (${cells})`);

  const figures = [];
  for (let i = 0; i < runs; ++i) {
    const { ctx } = await signedInContext(browser, server.url, 'analyst');
    const page = await ctx.newPage();
    await page.goto(`${server.url}/#/map?${q}`);
    const m = await waitForCells(page, 60000);
    if (m.cells < 50000) fail(`page drew ${m.cells} cells`);
    // Click the cell under the centre of the map (no events on top at this zoom: hide them).
    await page.evaluate(() => window.crimecast.map.toggle('#l-events'));
    const box = await page.locator('#map').boundingBox();
    const clickAt = await page.evaluate(() => performance.now());
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForSelector('#panel-cell .expected, #panel-cell p:not(.muted)', { timeout: 30000 });
    const answered = await page.evaluate(() => performance.now());
    const f = {
      idleMs: m.cellsIdleAt,
      forecastFetchMs: m.forecastFetchMs,
      clickMs: answered - clickAt,
      interactiveMs: m.cellsIdleAt + (answered - clickAt),
    };
    figures.push(f);
    log(`run ${i + 1}: map idle with ${m.cells} cells ${f.idleMs.toFixed(0)} ms after navigation (forecast fetch+parse ${f.forecastFetchMs.toFixed(0)} ms); click answered in ${f.clickMs.toFixed(0)} ms; total ${f.interactiveMs.toFixed(0)} ms`);
    if (i === 0) {
      fs.mkdirSync(path.join(out, 'web-screenshots'), { recursive: true });
      const file = path.join(out, 'web-screenshots', 'interactive-50k.png');
      await page.screenshot({ path: file });
      log(`screenshot: ${file} (${m.cells} cells of ${cell} m, explanation of the centre cell open)`);
    }
    await ctx.close();
  }
  const med = (k) => figures.map((f) => f[k]).sort((a, b) => a - b)[Math.floor(figures.length / 2)];
  const interactive = med('interactiveMs');
  console.log(`web_interactive: ${cells} cells, median of ${runs}: idle ${med('idleMs').toFixed(0)} ms, click ${med('clickMs').toFixed(0)} ms, interactive ${interactive.toFixed(0)} ms`);
  console.log(`web_interactive: ratio to the 2,000 ms target: ${(interactive / kTargetMs).toFixed(2)} (${interactive < kTargetMs ? 'under' : 'OVER'} target)`);
  if (arg('require-target', '0') === '1' && interactive >= kTargetMs) fail('over the 2 s target');
} finally {
  await browser.close();
  await server.stop();
}
