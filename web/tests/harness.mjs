// Shared by the end-to-end test (e2e.mjs) and the interactivity benchmark
// (bench/web_interactive.sh -> interactive.mjs): builds a small store with crimecast's own
// simulator, creates users, starts `crimecast serve` on a free loopback port with the built
// client (web/dist), and launches Debian's Chromium through playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = path.resolve(webDir, '..');

export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

export function log(...a) {
  console.log('[web]', ...a);
}

export function fail(message) {
  console.error(`[web] FAIL: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

export function check(cond, message) {
  if (!cond) fail(message);
  log(`ok: ${message}`);
}

export const passwords = { analyst: 'e2e analyst passphrase', partner: 'e2e partner passphrase' };

// ../shared/data (or $CRIMECAST_SHARED_DATA) as the C++ tests find it; '' when absent.
export function sharedDataDir() {
  const env = process.env.CRIMECAST_SHARED_DATA;
  if (env) return fs.existsSync(env) ? env : '';
  const c = path.resolve(repoDir, '..', 'shared', 'data');
  return fs.existsSync(c) ? c : '';
}

// A fresh store in `out`: `days` of a synthetic city (the demo's 10 km square near Newport),
// imported with `crimecast import`, and two users.
export function makeStore(cli, out, { days = 120, mu = 40, seed = 11 } = {}) {
  fs.mkdirSync(out, { recursive: true });
  const db = path.join(out, 'store.db');
  for (const f of [db, db + '-wal', db + '-shm']) fs.rmSync(f, { force: true });
  const csv = path.join(out, 'events.csv');
  execFileSync(cli, ['simulate', '--out', csv, '--seed', String(seed), '--start', '2025-01-01', '--days', String(days), '--mu', String(mu), '--theta', '0.35', '--quiet'], {
    stdio: 'inherit',
  });
  execFileSync(cli, ['import', '--db', db, '--format', 'csv', '--source', 'sim', '--quiet', csv], { stdio: 'inherit' });
  // An area covariate layer (one synthetic area over the simulated city, value 7), so that the
  // explanation panel's covariates table is exercised (`crimecast layers add`).
  const area = path.join(out, 'area.geojson');
  fs.writeFileSync(
    area,
    JSON.stringify({
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { code: 'SIM1' },
          geometry: { type: 'Polygon', coordinates: [[[-3.3, 51.4], [-2.7, 51.4], [-2.7, 51.8], [-3.3, 51.8], [-3.3, 51.4]]] },
        },
      ],
    }),
  );
  const table = path.join(out, 'area.csv');
  fs.writeFileSync(table, 'code,score\nSIM1,7\n');
  execFileSync(
    cli,
    ['layers', 'add', '--db', db, '--name', 'sim_score', '--boundaries', area, '--id-field', 'code', '--table', table, '--key-column', 'code', '--value-column', 'score', '--unit', 'points'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (const role of ['analyst', 'partner']) {
    execFileSync(cli, ['user', 'add', '--db', db, '--name', `e2e-${role}`, '--role', role], {
      env: { ...process.env, CRIMECAST_PASSWORD: passwords[role] },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return db;
}

// Boundary layers: the real Welsh LSOAs and the force areas when the shared data is present;
// otherwise a synthetic "force" square around the simulated city, so the overlay path is still
// exercised end to end.
export function boundaryArgs(out) {
  const shared = sharedDataDir();
  const lsoa = shared && path.join(shared, 'ons-lsoa-boundaries-wales', 'lsoa21_boundaries.geojson');
  const force = shared && path.join(shared, 'police-force-areas-ew', 'pfa_dec2020_ew_buc.geojson');
  if (lsoa && fs.existsSync(lsoa) && fs.existsSync(force)) {
    return { args: ['--boundaries', `lsoa=${lsoa}`, '--boundaries', `force=${force}`], kind: 'shared data (ONS LSOA 2021, PFA 2020)' };
  }
  const file = path.join(out, 'force.geojson');
  fs.writeFileSync(
    file,
    JSON.stringify({
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { code: 'SIM1', name: 'Synthetic force area' },
          geometry: { type: 'Polygon', coordinates: [[[-3.08, 51.54], [-2.92, 51.54], [-2.92, 51.63], [-3.08, 51.63], [-3.08, 51.54]]] },
        },
      ],
    }),
  );
  return { args: ['--boundaries', `force=${file}`], kind: 'synthetic square (no shared data)' };
}

// Starts `crimecast serve` on a free port; resolves with { url, proc, stop }.
export async function startServer(cli, db, extra = []) {
  const proc = spawn(cli, ['serve', '--db', db, '--port', '0', '--static', path.join(webDir, 'dist'), '--rate-limit', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('server did not start in 30 s: ' + stderr)), 30000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /serving on (https?:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  let exited = false;
  proc.on('exit', (code, signal) => {
    exited = true;
    if (!stopping) {
      console.error(`[web] FAIL: the server died (${signal ?? 'exit ' + code}); its log ends:\n${stderr.slice(-3000)}`);
      process.exitCode = 1;
    }
  });
  let stopping = false;
  const stop = async () => {
    stopping = true;
    if (exited) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await gone;
  };
  return { url, proc, stop, stderr: () => stderr };
}

export async function launchBrowser() {
  const executablePath = process.env.CRIMECAST_CHROMIUM ?? '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) fail(`no Chromium at ${executablePath} (install it with scripts/setup, or set CRIMECAST_CHROMIUM)`);
  // SwiftShader WebGL: headless machines have no GPU.
  return chromium.launch({ executablePath, headless: true, args: ['--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-sandbox'] });
}

export async function apiSignIn(url, role) {
  const r = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: `e2e-${role}`, password: passwords[role], purpose: 'end-to-end test' }),
  });
  if (r.status !== 201) fail(`sign-in as ${role}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

// A browser context already signed in (the client's sessionStorage and the session cookie), for
// measurements that should not include typing a password.
export async function signedInContext(browser, url, role, viewport = { width: 1440, height: 900 }) {
  const s = await apiSignIn(url, role);
  const ctx = await browser.newContext({ viewport });
  const u = new URL(url);
  await ctx.addCookies([{ name: 'crimecast_session', value: s.token, domain: u.hostname, path: '/' }]);
  const stored = { token: s.token, user: s.user, role: s.role, permissions: s.permissions, aggregates_only: s.aggregates_only, expires_at: s.expires_at, purpose: 'end-to-end test' };
  await ctx.addInitScript((v) => sessionStorage.setItem('crimecast.session', v), JSON.stringify(stored));
  return { ctx, session: s };
}

// Waits until the map page has drawn a forecast and the map is idle.
export async function waitForCells(page, timeout = 60000) {
  await page.waitForFunction(() => window.crimecast?.ready && window.crimecast.map?.metrics.cellsIdleAt > 0, null, { timeout, polling: 50 });
  return page.evaluate(() => ({ ...window.crimecast.map.metrics }));
}
