import type { CostReport } from './model.js';

const usd = (n: number, digits: number) => n.toFixed(digits);

/**
 * The report as `npm run cost` prints it: the audience, one line per cost, the unit costs, the managed services,
 * the default quotas the audience exceeds, and last the machine-readable TOTAL line.
 */
export function formatReport(report: CostReport, header: string): string[] {
  const out: string[] = [header];
  const tiles = report.tiles
    .map((t, i) => `${i === 0 ? 'focus ' : ''}${t.rung.name}@${+t.partMs.toFixed(1)}ms`)
    .reduce<Map<string, number>>((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map());
  out.push(
    `viewers=${report.viewers} tiles=[${[...tiles].map(([k, n]) => (n > 1 ? `${n} x ${k}` : k)).join(', ')}] ` +
      `media_requests_per_viewer_s=${report.mediaRequestsPerViewerSecond.toFixed(2)} ` +
      `api_requests_per_viewer_s=${report.apiRequestsPerViewerSecond.toFixed(2)}`,
  );
  out.push('');
  const width = Math.max(...report.lines.map((l) => l.key.length));
  for (const line of report.lines) {
    out.push(`${line.key.padEnd(width)}  ${usd(line.usdPerHour, 2).padStart(10)} $/h  ${line.note}`);
  }
  out.push('');
  out.push(
    `mirror  ${usd(report.usdPerHour, 2)} $/h  ${usd(report.usdPerViewerHour, 5)} $/viewer-hour  ${usd(report.usdPerStreamHour, 2)} $/stream-hour`,
  );
  for (const alt of report.alternatives) {
    out.push(
      `${alt.key}  ${usd(alt.usdPerHour, 2)} $/h  ${usd(alt.usdPerViewerHour, 5)} $/viewer-hour  (${alt.note})`,
    );
  }
  const exceeded = report.quotas.filter((q) => q.need > q.quota);
  for (const q of exceeded) {
    out.push(
      `QUOTA ${q.name}: needs ${Math.ceil(q.need).toLocaleString('en-US')}, default ${q.quota.toLocaleString('en-US')}: ${q.remedy ?? 'request an increase'}`,
    );
  }
  const ivs = report.alternatives.find((a) => a.key === 'ivs_low_latency');
  out.push(
    `TOTAL usd_per_hour=${usd(report.usdPerHour, 2)} usd_per_viewer_hour=${usd(report.usdPerViewerHour, 5)} ` +
      `usd_per_stream_hour=${usd(report.usdPerStreamHour, 2)} ivs_ll_usd_per_viewer_hour=${usd(ivs?.usdPerViewerHour ?? Number.NaN, 5)}`,
  );
  return out;
}
