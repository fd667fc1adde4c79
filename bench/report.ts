// The benchmark's table and verdicts. Targets (2-core machine, ratios from one run): Omnigate's added
// p50 and p99 ≤ 1.5× the bare proxy's, its throughput ≥ 70 % of the bare proxy's, streaming
// time-to-first-chunk overhead ≤ 1 ms, no RSS growth over a soak.

export interface Row {
  path: string;
  concurrency: number;
  requests: number;
  errors: number;
  rps: number;
  /** CPU time of the path's server process (upstream, bare proxy or Omnigate) per request, microseconds. */
  cpuUsPerRequest: number;
  p50: number;
  p99: number;
  firstChunkP50: number;
  firstChunkP99: number;
}

export interface Report {
  label: string;
  at: string;
  node: string;
  cpus: number;
  omnigate: string;
  secondsPerMeasurement: number;
  nonStreaming: Row[];
  streaming: Row[];
  rssMiB: { start: number; end: number };
  soak?: { seconds: number; samples: Array<{ s: number; rss: number }>; growthMiB?: number };
  settledRequests?: number;
  omnigateExitCode?: number | null;
  verdicts?: Array<{ check: string; value: string; target: string; pass: boolean }>;
  /** bench/billing.ts's report, with --billing. */
  billing?: unknown;
}

const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const pad = (s: string, n: number) => s.padStart(n);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function find(rows: Row[], path: string, c: number): Row {
  return rows.find((r) => r.path === path && r.concurrency === c)!;
}

export function printReport(report: Report): void {
  const out: string[] = [];
  const verdicts: NonNullable<Report['verdicts']> = [];
  out.push(`Omnigate benchmark ${report.label ? `(${report.label}) ` : ''}— ${report.at}, node ${report.node}, ${report.cpus} CPUs, omnigate from ${report.omnigate}, ${report.secondsPerMeasurement}s per measurement`);
  out.push('\nNon-streaming (latency in ms; added = minus the direct path at the same percentile)');
  const nsRows: string[][] = [];
  for (const r of report.nonStreaming) {
    const direct = find(report.nonStreaming, 'direct', r.concurrency);
    const direct_ = r.path === 'direct';
    nsRows.push([
      String(r.concurrency), r.path, f(r.p50), f(r.p99), direct_ ? '' : f(r.p50 - direct.p50), direct_ ? '' : f(r.p99 - direct.p99), f(r.rps, 0), f(r.cpuUsPerRequest, 0), String(r.errors),
    ]);
  }
  out.push(table(['conc', 'path', 'p50', 'p99', 'added p50', 'added p99', 'req/s', 'server CPU µs/req', 'errors'], nsRows));
  for (const c of [...new Set(report.nonStreaming.map((r) => r.concurrency))]) {
    const d = find(report.nonStreaming, 'direct', c);
    const b = find(report.nonStreaming, 'bare', c);
    const o = find(report.nonStreaming, 'omnigate', c);
    const p50 = (o.p50 - d.p50) / Math.max(b.p50 - d.p50, 1e-3);
    const p99 = (o.p99 - d.p99) / Math.max(b.p99 - d.p99, 1e-3);
    const rps = o.rps / b.rps;
    verdicts.push({ check: `c=${c} added p50 vs bare`, value: `${f(p50)}×`, target: '≤ 1.5×', pass: p50 <= 1.5 });
    verdicts.push({ check: `c=${c} added p99 vs bare`, value: `${f(p99)}×`, target: '≤ 1.5×', pass: p99 <= 1.5 });
    verdicts.push({ check: `c=${c} throughput vs bare`, value: `${f(rps * 100, 0)} %`, target: '≥ 70 %', pass: rps >= 0.7 });
  }
  out.push('\nStreaming (time to first chunk and whole stream, ms)');
  const sRows: string[][] = [];
  for (const r of report.streaming) {
    const b = find(report.streaming, 'bare', r.concurrency);
    const d = find(report.streaming, 'direct', r.concurrency);
    sRows.push([
      String(r.concurrency), r.path, f(r.firstChunkP50), f(r.firstChunkP99), r.path === 'direct' ? '' : f(r.firstChunkP50 - d.firstChunkP50),
      r.path === 'omnigate' ? f(r.firstChunkP50 - b.firstChunkP50) : '', f(r.p50), f(r.rps, 0), f(r.cpuUsPerRequest, 0), String(r.errors),
    ]);
  }
  out.push(table(['conc', 'path', 'ttfc p50', 'ttfc p99', 'vs direct', 'vs bare', 'whole p50', 'req/s', 'server CPU µs/req', 'errors'], sRows));
  // The issue names no concurrency for streaming: every level measured is judged.
  for (const o of report.streaming.filter((r) => r.path === 'omnigate')) {
    const b = find(report.streaming, 'bare', o.concurrency);
    const ttfc = o.firstChunkP50 - b.firstChunkP50;
    verdicts.push({ check: `c=${o.concurrency} stream first-chunk overhead vs bare (p50)`, value: `${f(ttfc)} ms`, target: '≤ 1 ms', pass: ttfc <= 1 });
  }
  out.push(`\nOmnigate RSS: ${f(report.rssMiB.start, 1)} MiB at start, ${f(report.rssMiB.end, 1)} MiB after the run`);
  if (report.soak) {
    const samples = report.soak.samples;
    // RSS saws up and down with garbage collection (by ~±40 MiB over ~20 s under this load), so single
    // samples say little, and so does a quarter's median: it depends on where in the saw the quarter falls
    // (one run: medians 261 → 292 MiB while the floors went 246 → 250). A leak raises the floor the heap
    // returns to after each collection, so the verdict compares the lowest sample of the second quarter
    // (after warm-up: JIT, pools, heap sizing) with the lowest of the last; the medians are printed too.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const quarter = (q: number) => samples.filter((s) => s.s > (report.soak!.seconds * q) / 4 && s.s <= (report.soak!.seconds * (q + 1)) / 4).map((s) => s.rss);
    const quarters = [0, 1, 2, 3].map(quarter);
    const floors = quarters.map((xs) => Math.min(...xs));
    report.soak.growthMiB = floors[3] - floors[1];
    const every = Math.max(1, Math.round(samples.length / 12));
    out.push(`Soak ${report.soak.seconds}s: RSS ${samples.filter((_, i) => i % every === 0).map((s) => `${Math.round(s.s)}s ${f(s.rss, 0)}`).join(', ')} MiB`);
    out.push(`Soak RSS floor (lowest sample) by quarter: ${floors.map((x) => f(x, 0)).join(', ')} MiB; median by quarter: ${quarters.map((xs) => f(median(xs), 0)).join(', ')} MiB; ${samples.length} samples`);
    const growth = report.soak.growthMiB / floors[1];
    verdicts.push({ check: 'soak RSS growth, floor 2nd → 4th quarter', value: `${f(floors[1], 0)} → ${f(floors[3], 0)} MiB (${f(growth * 100, 1)} %)`, target: '≤ 5 %', pass: growth <= 0.05 });
  }
  if (report.settledRequests !== undefined) out.push(`Requests settled by Omnigate (metrics): ${report.settledRequests}; exit code after SIGTERM: ${report.omnigateExitCode}`);
  out.push('\nTargets');
  out.push(table(['check', 'value', 'target', 'ok'], verdicts.map((v) => [v.check, v.value, v.target, v.pass ? 'yes' : 'NO'])));
  report.verdicts = verdicts;
  process.stdout.write(`${out.join('\n')}\n`);
}
