// Colours and legend. Risk bands use four steps of viridis (colour-blind safe, and ordered in
// lightness, so they also read in greyscale print); events use Okabe-Ito vermillion and blue.

// `alpha` scales the opacity slider per band: the many low-risk cells are drawn faintly, so
// that the hot spots, not the bright lowest band, draw the eye (and the map stays readable).
export const kBandClasses = [
  { max: 1, label: 'Top 1 % of cells', color: '#440154', alpha: 1 },
  { max: 5, label: 'Top 1–5 %', color: '#31688e', alpha: 1 },
  { max: 10, label: 'Top 5–10 %', color: '#35b779', alpha: 1 },
  { max: 100, label: 'Other cells with risk', color: '#fde725', alpha: 0.3 },
] as const;

export const kEventColor = '#d55e00'; // Okabe-Ito vermillion
export const kLiveColor = '#cc79a7'; // Okabe-Ito reddish purple
export const kClusterColor = '#0072b2'; // Okabe-Ito blue
export const kBoundaryColors = ['#000000', '#56b4e9', '#009e73', '#e69f00'];

export function bandClass(band: number): number {
  return kBandClasses.findIndex((c) => band <= c.max);
}

export function bandLabel(band: number | null): string {
  if (band === null || band === undefined) return 'outside the active area';
  if (band <= 1) return 'top 1 %';
  if (band <= 5) return `top ${band} %`;
  if (band <= 10) return 'top 10 %';
  if (band <= 20) return 'top 20 %';
  return 'below the top 20 %';
}

// A MapLibre expression: the fill colour of a cell from its band, preferring the live band
// (feature-state, set by /api/live forecast messages) over the band it was loaded with.
export function bandColorExpression(): unknown {
  // Cells outside the model's active area come with band null: drawn as "other cells with risk".
  const band = ['coalesce', ['feature-state', 'band'], ['get', 'band'], 100];
  return [
    'step',
    band,
    kBandClasses[0].color,
    1.5,
    kBandClasses[1].color,
    5.5,
    kBandClasses[2].color,
    10.5,
    kBandClasses[3].color,
  ];
}

// A MapLibre expression: the fill opacity of a cell, `opacity` (the slider) times its band's
// alpha.
export function bandOpacityExpression(opacity: number): unknown {
  const band = ['coalesce', ['feature-state', 'band'], ['get', 'band'], 100];
  return ['*', opacity, ['step', band, kBandClasses[0].alpha, 10.5, kBandClasses[3].alpha]];
}

export function legendHtml(recordLevel: boolean, boundaryNames: string[]): string {
  const bands = kBandClasses
    .map((c) => `<li><span class="swatch" style="background:${c.color};opacity:${c.alpha}"></span>${c.label}</li>`)
    .join('');
  const events = recordLevel
    ? `<h4>Events</h4><ul>
        <li><span class="dot filled" style="background:${kEventColor}"></span>Exact location</li>
        <li><span class="dot hollow" style="border-color:${kEventColor}"></span>Approximate (snapped / anonymised)</li>
        <li><span class="dot filled" style="background:${kLiveColor}"></span>New (live)</li>
        <li><span class="dot cluster" style="background:${kClusterColor}"></span>Cluster (count shown)</li>
      </ul>`
    : `<p class="note">Aggregates only: no individual events are shown.</p>`;
  const bounds = boundaryNames.length
    ? `<h4>Boundaries</h4><ul>${boundaryNames
        .map((n, i) => `<li><span class="line" style="border-color:${kBoundaryColors[i % 4]}"></span>${n}</li>`)
        .join('')}</ul>`
    : '';
  return `<h4>Forecast risk</h4><ul>${bands}</ul>${events}${bounds}`;
}
