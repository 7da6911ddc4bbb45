// Large forecasts (tens of thousands of cells) drawn as one image: a pixel per cell, placed on
// the map by its four corners. Tiling 50,000 polygons in the map's worker and triangulating them
// takes seconds on a modest machine; one small image takes milliseconds, and with nearest-
// neighbour resampling its pixels are exactly the cells' squares.
//
// Placement: the cells form a regular grid in a projected CRS (British National Grid for UK
// data). The map from grid index (ix, iy) to lon/lat is fitted as an affine transform by least
// squares over every cell centre; over a force area the residual of that fit is well under a
// metre (the transverse Mercator of BNG is locally almost affine), which is far below a cell.
import type { CellFeatureProps } from './api';
import { kBandClasses } from './legend';

type Cell = GeoJSON.Feature<GeoJSON.Polygon, CellFeatureProps>;

export interface GridRaster {
  ix0: number;
  iy1: number;
  width: number;
  height: number;
  canvas: HTMLCanvasElement;
  corners: [[number, number], [number, number], [number, number], [number, number]];
  byIndex: Map<string, Cell>;
  // lon/lat -> grid index (rounded), or null outside the grid.
  indexAt(lon: number, lat: number): [number, number] | null;
  paint(cell: Cell): void;
}

function indexOf(id: string): [number, number] {
  const p = id.split(':');
  return [Number(p[2]), Number(p[3])];
}

const kRgb = kBandClasses.map((c) => [parseInt(c.color.slice(1, 3), 16), parseInt(c.color.slice(3, 5), 16), parseInt(c.color.slice(5, 7), 16)]);

function solve3(m: number[][], v: number[]): number[] {
  // Cramer's rule on the 3x3 normal equations.
  const det = (a: number[][]) =>
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  const d = det(m);
  return [0, 1, 2].map((k) => det(m.map((row, i) => row.map((x, j) => (j === k ? v[i] : x)))) / d);
}

export function buildRaster(cells: Cell[]): GridRaster | null {
  if (cells.length < 3) return null;
  let ix0 = Infinity,
    ix1 = -Infinity,
    iy0 = Infinity,
    iy1 = -Infinity;
  const idx = cells.map((c) => indexOf(c.properties.cell_id));
  for (const [ix, iy] of idx) {
    ix0 = Math.min(ix0, ix);
    ix1 = Math.max(ix1, ix);
    iy0 = Math.min(iy0, iy);
    iy1 = Math.max(iy1, iy);
  }
  // Least squares lon = a*ix + b*iy + c (and lat), indices centred for conditioning.
  const cx = (ix0 + ix1) / 2;
  const cy = (iy0 + iy1) / 2;
  const n = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const rl = [0, 0, 0];
  const rt = [0, 0, 0];
  cells.forEach((c, i) => {
    const r = [idx[i][0] - cx, idx[i][1] - cy, 1];
    for (let a = 0; a < 3; ++a) {
      for (let b = 0; b < 3; ++b) n[a][b] += r[a] * r[b];
      rl[a] += r[a] * c.properties.lon;
      rt[a] += r[a] * c.properties.lat;
    }
  });
  const L = solve3(n, rl);
  const T = solve3(n, rt);
  if (![...L, ...T].every(Number.isFinite)) return null;
  const at = (ix: number, iy: number): [number, number] => [L[0] * (ix - cx) + L[1] * (iy - cy) + L[2], T[0] * (ix - cx) + T[1] * (iy - cy) + T[2]];
  const det = L[0] * T[1] - L[1] * T[0];
  const width = ix1 - ix0 + 1;
  const height = iy1 - iy0 + 1;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d')!;
  const img = g.createImageData(width, height);
  const byIndex = new Map<string, Cell>();
  cells.forEach((c, i) => {
    const [ix, iy] = idx[i];
    byIndex.set(`${ix}:${iy}`, c);
    const k = Math.max(0, kBandClasses.findIndex((b) => (c.properties.band ?? 100) <= b.max));
    const rgb = kRgb[k];
    const o = 4 * ((iy1 - iy) * width + (ix - ix0));
    img.data[o] = rgb[0];
    img.data[o + 1] = rgb[1];
    img.data[o + 2] = rgb[2];
    img.data[o + 3] = Math.round(255 * kBandClasses[k].alpha);
  });
  g.putImageData(img, 0, 0);
  return {
    ix0,
    iy1,
    width,
    height,
    canvas,
    corners: [at(ix0 - 0.5, iy1 + 0.5), at(ix1 + 0.5, iy1 + 0.5), at(ix1 + 0.5, iy0 - 0.5), at(ix0 - 0.5, iy0 - 0.5)],
    byIndex,
    indexAt(lon, lat) {
      const dl = lon - L[2];
      const dt = lat - T[2];
      const ix = Math.round((T[1] * dl - L[1] * dt) / det + cx);
      const iy = Math.round((-T[0] * dl + L[0] * dt) / det + cy);
      return ix < ix0 || ix > ix1 || iy < iy0 || iy > iy1 ? null : [ix, iy];
    },
    paint(cell) {
      const [ix, iy] = indexOf(cell.properties.cell_id);
      const k = Math.max(0, kBandClasses.findIndex((b) => (cell.properties.band ?? 100) <= b.max));
      const rgb = kRgb[k];
      // Replace the pixel (a translucent fill would blend with the old band's colour).
      g.clearRect(ix - ix0, iy1 - iy, 1, 1);
      g.fillStyle = `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${kBandClasses[k].alpha})`;
      g.fillRect(ix - ix0, iy1 - iy, 1, 1);
    },
  };
}
