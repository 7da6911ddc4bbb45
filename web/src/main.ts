// The application shell: sign-in, the header, the two pages (#/map, #/backtest), keyboard
// shortcuts and their help overlay.
import './style.css';

import { currentSession, getJson, setUnauthenticatedHandler, signIn, signOut, type ClientConfig } from './api';
import { BacktestView } from './backtest';
import { esc } from './cellpanel';
import { MapView } from './mapview';

const app = document.getElementById('app')!;
let mapView: MapView | null = null;
let backtestView: BacktestView | null = null;
let config: ClientConfig | null = null;

declare global {
  interface Window {
    crimecast?: { map?: MapView; ready: boolean };
  }
}
window.crimecast = { ready: false };

const kShortcuts: [string, string][] = [
  ['?', 'show or hide this help'],
  ['m / k', 'map page / backtest page'],
  ['c', 'risk cells on or off'],
  ['e', 'events on or off (police roles)'],
  ['b', 'first boundary layer on or off'],
  ['l', 'live updates on or off'],
  ['[ / ]', 'risk cells less / more opaque'],
  ['h', 'hotspot list'],
  ['n / N', 'next / previous hotspot (flies to it, opens its explanation)'],
  ['f', 'focus the forecast form'],
  ['p', 'print the shift briefing'],
  ['Esc', 'close this help'],
  ['arrows, + / −', 'pan and zoom when the map has focus'],
];

function signInPage(message = ''): void {
  destroyViews();
  app.innerHTML = `<main class="signin">
    <form id="signin" aria-labelledby="signin-title">
      <h1 id="signin-title">crimecast</h1>
      <p class="muted">Crime hot-spot forecasts. Sign in with your crimecast account.</p>
      ${message ? `<p class="error" role="alert">${esc(message)}</p>` : ''}
      <label>User <input id="user" name="user" autocomplete="username" required autofocus></label>
      <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
      <label>Purpose <input id="purpose" name="purpose" placeholder="e.g. night-shift briefing, north sector" required>
        <span class="muted small">Recorded in the audit log with everything you view.</span></label>
      <button type="submit">Sign in</button>
    </form></main>`;
  const form = document.getElementById('signin') as HTMLFormElement;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = (id: string) => (document.getElementById(id) as HTMLInputElement).value;
    const button = form.querySelector('button')!;
    button.disabled = true;
    try {
      await signIn(v('user'), v('password'), v('purpose'));
      if (!location.hash || location.hash === '#/signin') location.hash = '#/map';
      await start();
    } catch (err) {
      signInPage((err as Error).message);
    }
  });
}

function destroyViews(): void {
  mapView?.destroy();
  mapView = null;
  backtestView?.destroy();
  backtestView = null;
  window.crimecast = { ready: false };
}

function shell(): HTMLElement {
  const s = currentSession()!;
  app.innerHTML = `<header class="top">
      <a href="#/map" class="brand">crimecast</a>
      <nav aria-label="Pages"><a href="#/map" id="nav-map">Map <kbd>m</kbd></a><a href="#/backtest" id="nav-backtest">Backtest <kbd>k</kbd></a></nav>
      <span class="who">${esc(s.user)} · <span class="role role-${esc(s.role)}">${esc(s.role)}</span>${s.aggregates_only ? ' · aggregates only' : ''}</span>
      <button type="button" id="help-btn" aria-haspopup="dialog">Keys <kbd>?</kbd></button>
      <button type="button" id="signout">Sign out</button>
    </header>
    <div id="page"></div>
    <div id="help" class="help" role="dialog" aria-modal="true" aria-labelledby="help-title" hidden>
      <div class="help-box"><h2 id="help-title">Keyboard shortcuts</h2>
      <table>${kShortcuts.map(([k, d]) => `<tr><th><kbd>${esc(k)}</kbd></th><td>${esc(d)}</td></tr>`).join('')}</table>
      <p class="muted small">Every control is reachable with Tab; Enter or Space activates it.</p>
      <button type="button" id="help-close">Close</button></div>
    </div>`;
  document.getElementById('signout')!.addEventListener('click', async () => {
    await signOut();
    location.hash = '#/signin';
    signInPage('Signed out.');
  });
  document.getElementById('help-btn')!.addEventListener('click', () => toggleHelp(true));
  document.getElementById('help-close')!.addEventListener('click', () => toggleHelp(false));
  return document.getElementById('page')!;
}

function toggleHelp(show?: boolean): void {
  const h = document.getElementById('help');
  if (!h) return;
  h.hidden = show === undefined ? !h.hidden : !show;
  if (!h.hidden) (document.getElementById('help-close') as HTMLElement).focus();
}

async function start(): Promise<void> {
  if (!currentSession()) return signInPage();
  try {
    config = await getJson<ClientConfig>('/api/config');
  } catch (e) {
    return signInPage((e as Error).message);
  }
  route();
}

function route(): void {
  if (!currentSession() || !config) return signInPage();
  const page = location.hash.startsWith('#/backtest') ? 'backtest' : 'map';
  destroyViews();
  const el = shell();
  document.getElementById(`nav-${page}`)!.setAttribute('aria-current', 'page');
  if (page === 'backtest') {
    backtestView = new BacktestView(el, config);
  } else {
    mapView = new MapView(el, config);
    window.crimecast = { map: mapView, ready: true };
  }
}

window.addEventListener('hashchange', () => {
  if (currentSession() && config) route();
});

document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName) && (t as HTMLInputElement).type !== 'checkbox' && (t as HTMLInputElement).type !== 'range') return;
  if (e.key === 'Escape') return toggleHelp(false);
  if (!currentSession()) return;
  const m = mapView;
  const act: Record<string, () => void> = {
    '?': () => toggleHelp(),
    m: () => (location.hash = '#/map'),
    k: () => (location.hash = '#/backtest'),
    c: () => m?.toggle('#l-cells'),
    e: () => m?.toggle('#l-events'),
    b: () => m?.toggle('[data-boundary]'),
    l: () => m?.toggle('#l-live'),
    '[': () => m?.nudgeOpacity(-10),
    ']': () => m?.nudgeOpacity(10),
    h: () => {
      m?.showTab('#panel-hot');
      (document.querySelector('button.hotspot') as HTMLElement | null)?.focus();
    },
    n: () => m?.stepHotspot(1),
    N: () => m?.stepHotspot(-1),
    f: () => (document.getElementById('f-model') as HTMLElement | null)?.focus(),
    p: () => document.getElementById('x-print')?.click(),
  };
  const f = act[e.key];
  if (f) {
    e.preventDefault();
    f();
  }
});

setUnauthenticatedHandler((message) => signInPage(message));
void start();
