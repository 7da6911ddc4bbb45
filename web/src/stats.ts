// Small statistics for the explanation panel, computed client-side from what the API returns.

// The q-quantile of a Poisson(mean) count: the smallest k with P(X <= k) >= q. The forecast's
// expected count is a Poisson mean, so [Q(0.05), Q(0.95)] is a 90 % interval for the number of
// events the cell will see in the horizon (it ignores the uncertainty of the mean itself, so it
// is a lower bound on the real spread). Summed in log space so means up to 10^4 stay exact.
export function poissonQuantile(mean: number, q: number): number {
  if (!(mean > 0)) return 0;
  let k = 0;
  let logP = -mean; // log P(X = 0)
  let cdf = Math.exp(logP);
  const limit = Math.ceil(mean + 20 * Math.sqrt(mean) + 20);
  while (cdf < q && k < limit) {
    k += 1;
    logP += Math.log(mean) - Math.log(k);
    cdf += Math.exp(logP);
  }
  return k;
}

export function poissonInterval90(mean: number): [number, number] {
  return [poissonQuantile(mean, 0.05), poissonQuantile(mean, 0.95)];
}

// Trend of a monthly series: the least-squares slope (events per month) over the months with a
// value, and the ratio of the last 6 months to the 6 before (null when either sum is 0 or
// suppressed). Nulls (suppressed counts) are skipped, never read as zero.
export function trend(values: (number | null)[]): { slope: number | null; ratio6: number | null } {
  const pts: [number, number][] = [];
  values.forEach((v, i) => {
    if (v !== null) pts.push([i, v]);
  });
  let slope: number | null = null;
  if (pts.length >= 3) {
    const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
    const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
    let sxy = 0;
    let sxx = 0;
    for (const [x, y] of pts) {
      sxy += (x - mx) * (y - my);
      sxx += (x - mx) * (x - mx);
    }
    slope = sxx > 0 ? sxy / sxx : 0;
  }
  const n = values.length;
  const last = values.slice(Math.max(0, n - 6));
  const prev = values.slice(Math.max(0, n - 12), Math.max(0, n - 6));
  let ratio6: number | null = null;
  if (last.length === 6 && prev.length === 6 && !last.includes(null) && !prev.includes(null)) {
    const a = (last as number[]).reduce((x, y) => x + y, 0);
    const b = (prev as number[]).reduce((x, y) => x + y, 0);
    if (b > 0) ratio6 = a / b;
  }
  return { slope, ratio6 };
}

export function fmt(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return v.toFixed(digits);
}
