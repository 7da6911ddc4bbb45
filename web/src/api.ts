// The HTTP API of docs/api.md, and nothing else: every request the client makes goes through
// here, with the session token as a bearer header.

export interface Session {
  token: string;
  user: string;
  role: string;
  permissions: string[];
  aggregates_only: boolean;
  expires_at: string;
  purpose: string;
}

export interface ClientConfig {
  basemap_style: string | null;
  boundaries: { name: string }[];
  models: { name: string; summary: string }[];
  default_model: string;
  horizons: string[];
  default_horizon: string;
  default_cell_m: number;
  min_cell_m: number;
  max_cell_m: number;
  categories: { slug: string; name: string }[];
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

const kStorageKey = 'crimecast.session';
let session: Session | null = loadSession();
let onUnauthenticated: (message: string) => void = () => {};

function loadSession(): Session | null {
  try {
    const s = sessionStorage.getItem(kStorageKey);
    return s ? (JSON.parse(s) as Session) : null;
  } catch {
    return null;
  }
}

export function currentSession(): Session | null {
  return session;
}

export function setUnauthenticatedHandler(f: (message: string) => void): void {
  onUnauthenticated = f;
}

export function canReadRecords(s: Session | null = session): boolean {
  return !!s && !s.aggregates_only && s.permissions.includes('read-records');
}

export function can(permission: string): boolean {
  return !!session && session.permissions.includes(permission);
}

async function errorOf(r: Response): Promise<ApiError> {
  let code = 'HTTP' + r.status;
  let message = r.statusText;
  try {
    const j = await r.json();
    code = j.code ?? code;
    message = j.message ?? message;
  } catch {
    /* not JSON */
  }
  return new ApiError(r.status, code, message);
}

// A request with the session's bearer token. 401 ends the session (expired or revoked).
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (session) headers.set('Authorization', 'Bearer ' + session.token);
  const r = await fetch(path, { ...init, headers });
  if (r.status === 401 && session) {
    const e = await errorOf(r);
    clearSession();
    onUnauthenticated(e.code === 'SessionExpired' ? 'Your session expired; sign in again.' : e.message);
    throw e;
  }
  if (!r.ok) throw await errorOf(r);
  return r;
}

export async function getJson<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const r = await request(withQuery(path, params));
  return (await r.json()) as T;
}

export function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export async function signIn(user: string, password: string, purpose: string): Promise<Session> {
  const r = await fetch('/api/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, password, purpose }),
  });
  if (!r.ok) throw await errorOf(r);
  const j = await r.json();
  session = {
    token: j.token,
    user: j.user,
    role: j.role,
    permissions: j.permissions ?? [],
    aggregates_only: !!j.aggregates_only,
    expires_at: j.expires_at,
    purpose,
  };
  // sessionStorage: survives a reload of this tab, gone when the tab closes; never localStorage.
  sessionStorage.setItem(kStorageKey, JSON.stringify(session));
  return session;
}

export function clearSession(): void {
  session = null;
  sessionStorage.removeItem(kStorageKey);
}

export async function signOut(): Promise<void> {
  try {
    if (session) await request('/api/session', { method: 'DELETE' });
  } catch {
    /* already gone */
  }
  clearSession();
}

// ---- typed responses ----
export interface CellFeatureProps {
  cell_id: string;
  risk: number;
  background: number;
  recent: number;
  band: number | null; // null: outside the model's active area
  lon: number;
  lat: number;
  size_m: number;
}

export interface Forecast {
  geojson: GeoJSON.FeatureCollection<GeoJSON.Polygon, CellFeatureProps>;
  modelUsed: string;
  origin: string;
  fittedAt: string;
  stale: boolean;
  liveEvents: number;
  bytes: number;
}

export interface ForecastParams {
  model: string;
  horizon: string;
  cell: number;
  category?: string;
  at?: string;
}

export async function getForecast(p: ForecastParams): Promise<Forecast> {
  const r = await request(withQuery('/api/forecast', { ...p, format: 'geojson' }));
  const text = await r.text();
  return {
    geojson: JSON.parse(text),
    modelUsed: r.headers.get('X-Crimecast-Model-Used') ?? p.model,
    origin: r.headers.get('X-Crimecast-Origin') ?? '',
    fittedAt: r.headers.get('X-Crimecast-Fitted-At') ?? '',
    stale: r.headers.get('X-Crimecast-Stale') === 'true',
    liveEvents: Number(r.headers.get('X-Crimecast-Live-Events') ?? 0),
    bytes: text.length,
  };
}

export interface EventProps {
  source: string;
  id: string;
  category: string;
  time_start: string;
  time_end: string;
  lon: number | null;
  lat: number | null;
  quality: string;
  location?: string;
  distance_m?: number;
}

export interface Hotspot {
  rank: number;
  cell_id: string;
  lon: number;
  lat: number;
  risk: number;
  band: number;
  background: number;
  recent: number;
  share_recent: number;
  reason: string;
  recent_events?: EventProps[];
}

export interface Hotspots {
  model_used: string;
  origin: string;
  horizon: string;
  cell_m: number;
  active_cells: number;
  stale: boolean;
  notes: string[];
  hotspots: Hotspot[];
}

export interface CellExplanation {
  cell_id: string;
  size_m: number;
  polygon: [number, number][];
  centre?: [number, number];
  forecast: null | {
    model_used: string;
    origin: string;
    horizon: string;
    risk: number;
    background: number;
    recent: number;
    other: number;
    band: number;
    poisson_sd: number;
    parameters?: Record<string, number>; // the fitted model's parameters by name
    explanation: string;
    stale: boolean;
  };
  note?: string;
  // Area covariates at the cell (layers stored with `crimecast layers add`); value null where
  // the cell's centre lies in no area with a value. Absent from older servers.
  covariates?: { name: string; value: number | null; unit: string; description: string; source: string }[];
  history: { months: { month: string; events: number | null }[]; total: number | null; suppressed_cells?: number };
  recent_events?: EventProps[];
  recent_events_window_days?: number;
}
