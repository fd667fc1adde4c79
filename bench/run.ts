// `npm run bench`: Omnigate's overhead against the floor. Four paths to one fast upstream, in one run:
//   direct    client → upstream
//   bare      client → bare pass-through proxy (node:http + undici, bytes only) → upstream
//   fastify   client → Fastify proxy that parses and re-serialises the JSON, nothing else → upstream
//             (the framework's own floor: how much of Omnigate's overhead is the gateway's work)
//   omnigate  client → Omnigate (real key, credit reservation, billing, usage records) → upstream
// Added latency is a path's latency minus the direct path's at the same percentile and concurrency.
// Each cell measures the paths in turn, --rounds times, after a warm-up of every server.
// Options: --seconds N (per path and cell, split over the rounds; default 6), --rounds N (default 4),
// --concurrency 1,16,64 (the levels measured), --no-streaming (skip the streaming measurements),
// --soak N (then N seconds of mixed load on Omnigate alone, sampling its RSS), --source (run Omnigate
// from src/ with tsx instead of dist/), --cpu-prof (write Omnigate's CPU profile to .bench/prof/),
// --label TEXT (stored in the JSON), --billing (also measure the billing path alone on SQLite and
// PostgreSQL + Redis, bench/billing.ts), --against DIR (also measure the Omnigate built in another
// checkout's dist/, as a path named after the directory, in the same alternating rounds: an A/B of two
// builds that this machine's drifting speed cannot bias; e.g. `git worktree add /tmp/base HEAD~1`, then
// npm ci and npm run build there; may be given several times).
// BENCH_NODE_ARGS (environment, space-separated) adds Node options to each Omnigate measured, e.g.
// `--trace-gc` (its output goes to .bench/<path>.log).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { spawnSync } from 'node:child_process';
import { percentile, runLoad, type RunResult, type Target } from './load.js';
import { cpuMs, rssMiB, spawnOmnigate, spawnPrintingUrl, stop, type Child } from './processes.js';
import { printReport, type Report } from './report.js';

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    soak: { type: 'string' },
    source: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    label: { type: 'string', default: '' },
    billing: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '1,16,64' },
    'no-streaming': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '4' },
    against: { type: 'string', multiple: true },
  },
});
const SECONDS = Number(opts.seconds);
const ROUNDS = Number(opts.rounds);
const CONCURRENCY = opts.concurrency.split(',').map(Number);
const ADMIN_KEY = 'bench-admin-key-0123456789';
const root = resolve(import.meta.dirname, '..');
const outDir = join(root, '.bench');
mkdirSync(outDir, { recursive: true });

const tsx = ['--import', 'tsx'];
const children: Child[] = [];
const dataDir = mkdtempSync(join(outDir, 'run-'));

/** Builds dist/ (realistic numbers come from the compiled code). tsc emits even when a type check fails. */
function build(): void {
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'pipe' });
  if (tsc.status !== 0) process.stderr.write(`warning: tsc reported errors; benchmarking what it emitted\n${tsc.stdout.toString().slice(0, 2000)}\n`);
}

async function main(): Promise<void> {
  if (!opts.source) build();
  const upstream = await spawnPrintingUrl([...tsx, join(root, 'bench/fast-upstream.ts')]);
  children.push(upstream);
  const bare = await spawnPrintingUrl([...tsx, join(root, 'bench/bare-proxy.ts')], { UPSTREAM: upstream.url });
  children.push(bare);
  const fst = await spawnPrintingUrl([...tsx, join(root, 'bench/fastify-proxy.ts')], { UPSTREAM: upstream.url });
  children.push(fst);
  const entry = opts.source ? [...tsx, join(root, 'src/main.ts')] : [join(root, 'dist/src/main.js')];
  const prof = [...(opts['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(outDir, 'prof')}`] : []), ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
  const startOmnigate = async (name: string, entryArgs: string[]) => {
    const child = await spawnOmnigate(
      [...prof, ...entryArgs],
      {
        DATABASE_URL: `file:${join(dataDir, `${name}.db`)}`,
        OMNIGATE_ADMIN_KEY: ADMIN_KEY,
        OMNIGATE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        OPENAI_API_KEY: 'bench-upstream-key',
      },
      join(outDir, `${name}.log`),
    );
    children.push(child);
    const created = await fetch(`${child.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', credit_usd: 1_000_000 }),
    });
    if (created.status !== 201) throw new Error(`cannot create a key: ${created.status} ${await created.text()}`);
    const { key } = (await created.json()) as { key: string };
    return { child, target: { name, url: child.url, headers: { authorization: `Bearer ${key}` } } satisfies Target };
  };
  const { child: omnigate, target: omnigateTarget } = await startOmnigate('omnigate', entry);
  const pid = omnigate.process.pid!;
  const rssStart = rssMiB(pid);
  const against = [];
  for (const dir of opts.against ?? []) against.push(await startOmnigate(basename(resolve(dir)), [join(resolve(dir), 'dist/src/main.js')]));

  const targets: Target[] = [
    { name: 'direct', url: upstream.url, headers: { authorization: 'Bearer bench-upstream-key' } },
    { name: 'bare', url: bare.url, headers: {} },
    { name: 'fastify', url: fst.url, headers: {} },
    omnigateTarget,
    ...against.map((a) => a.target),
  ];
  // The server process each path measures: its CPU per request is what this machine's other load
  // (other processes sharing the two cores) disturbs least.
  const serverPid: Record<string, number> = { direct: upstream.process.pid!, bare: bare.process.pid!, fastify: fst.process.pid!, omnigate: pid };
  for (const a of against) serverPid[a.target.name] = a.child.process.pid!;
  /**
   * One cell: `rounds` short measurements of each path, taken in turn (direct, bare, …, direct, bare, …),
   * so a slow spell of this shared machine falls on every path alike instead of on whichever path was
   * measured during it. Every other round takes them in reverse order: a path measured later in a round
   * did a few percent better (two builds' places swapped, in earlier A/Bs), which in a fixed order
   * favoured the `--against` builds. Latencies are pooled; requests/s and CPU per request are totals
   * over the rounds.
   */
  const measureCell = async (paths: Target[], concurrency: number, stream: boolean) => {
    const cells = new Map(paths.map((t) => [t.name, { cpuMs: 0, requests: 0, counted: 0, errors: 0, seconds: 0, latencies: [] as number[], firstChunk: [] as number[] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of round % 2 === 0 ? paths : [...paths].reverse()) {
        const cell = cells.get(t.name)!;
        const before = cpuMs(serverPid[t.name]);
        const r = await runLoad(t, { concurrency, seconds: SECONDS / ROUNDS, stream, warmupSeconds: 0.25 });
        cell.cpuMs += cpuMs(serverPid[t.name]) - before;
        cell.counted += r.requests + r.warmupRequests;
        cell.requests += r.requests;
        cell.errors += r.errors;
        cell.seconds += r.seconds;
        // concat, not push(...): a long measurement holds more latencies than a call's argument limit.
        cell.latencies = cell.latencies.concat(r.latencies);
        cell.firstChunk = cell.firstChunk.concat(r.firstChunk);
      }
    }
    return paths.map((t) => {
      const c = cells.get(t.name)!;
      const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
      const result: RunResult = { requests: c.requests, warmupRequests: c.counted - c.requests, errors: c.errors, seconds: c.seconds, latencies: sorted(c.latencies), firstChunk: sorted(c.firstChunk) };
      return { name: t.name, result, cpuUsPerRequest: (c.cpuMs * 1000) / Math.max(1, c.counted) };
    });
  };
  const report: Report = {
    label: opts.label,
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    omnigate: opts.source ? 'src (tsx)' : 'dist',
    secondsPerMeasurement: SECONDS,
    nonStreaming: [],
    streaming: [],
    rssMiB: { start: rssStart, end: NaN },
  };
  const row = (path: string, concurrency: number, { result: r, cpuUsPerRequest }: { result: RunResult; cpuUsPerRequest: number }) => ({
    path,
    concurrency,
    cpuUsPerRequest,
    requests: r.requests,
    errors: r.errors,
    rps: r.requests / r.seconds,
    p50: percentile(r.latencies, 50),
    p99: percentile(r.latencies, 99),
    firstChunkP50: percentile(r.firstChunk, 50),
    firstChunkP99: percentile(r.firstChunk, 99),
  });
  // The framework floor answers with whole JSON bodies only.
  const streamingTargets = targets.filter((t) => t.name !== 'fastify');
  // Warm-up: the JIT and the connection pools of every server reach their steady state before anything
  // counts, on the streaming path too. Without it the first streaming cell (c=1) paid for compiling
  // Omnigate's streaming code: V8's helper threads used ~0.9 ms of CPU per stream in its first two
  // seconds at c=1 and under 0.1 ms after eight seconds, its main thread ~2.3 ms against 1.1-1.4.
  process.stderr.write('warm-up\n');
  for (const t of targets) await runLoad(t, { concurrency: 16, seconds: 1, stream: false, warmupSeconds: 1 });
  if (!opts['no-streaming']) for (const t of streamingTargets) await runLoad(t, { concurrency: 16, seconds: 1, stream: true, warmupSeconds: 1 });
  for (const concurrency of CONCURRENCY) {
    process.stderr.write(`non-streaming  c=${concurrency}\n`);
    for (const m of await measureCell(targets, concurrency, false)) report.nonStreaming.push(row(m.name, concurrency, m));
  }
  for (const concurrency of opts['no-streaming'] ? [] : CONCURRENCY.filter((c) => c <= 16)) {
    process.stderr.write(`streaming      c=${concurrency}\n`);
    for (const m of await measureCell(streamingTargets, concurrency, true)) report.streaming.push(row(m.name, concurrency, m));
  }
  report.rssMiB.end = rssMiB(pid);

  if (opts.soak) {
    const seconds = Number(opts.soak);
    const samples: Array<{ s: number; rss: number }> = [];
    const t0 = Date.now();
    // Five samples a second: RSS saws with garbage collection, and a quarter's median needs many samples to be steady.
    const sampler = setInterval(() => samples.push({ s: Math.round((Date.now() - t0) / 100) / 10, rss: rssMiB(pid) }), 200);
    process.stderr.write(`soak ${seconds}s on omnigate (c=16, streaming and not)\n`);
    const omni = targets.find((t) => t.name === 'omnigate')!;
    await Promise.all([
      runLoad(omni, { concurrency: 8, seconds, stream: false, warmupSeconds: 0 }),
      runLoad(omni, { concurrency: 8, seconds, stream: true, warmupSeconds: 0 }),
    ]);
    clearInterval(sampler);
    samples.push({ s: Math.round((Date.now() - t0) / 100) / 10, rss: rssMiB(pid) });
    report.soak = { seconds, samples };
  }

  const metrics = await (await fetch(`${omnigate.url}/metrics`)).text();
  report.settledRequests = [...metrics.matchAll(/^omnigate_requests_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
  const exitCode = await stop(omnigate.process);
  report.omnigateExitCode = exitCode;
  printReport(report);
  if (opts.billing) {
    // Imported only when asked: it loads the gateway's sources in this process.
    const { runBillingBench, formatBillingReport } = await import('./billing.js');
    const billing = await runBillingBench();
    report.billing = billing;
    process.stdout.write(`\n${formatBillingReport(billing)}`);
  }
  const file = join(outDir, 'results.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nwritten to ${file}\n`);
}

main()
  .catch((err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(children.map((c) => stop(c.process)));
    rmSync(dataDir, { recursive: true, force: true });
  });
