// The billing path's own cost, on SQLite and on PostgreSQL + Redis: what a request waits for before its
// upstream call (rate-limit admission + credit reservation, prepare.ts), and how fast the batching writer
// settles (usage record + charge + ledger row, off the response path).
//
//   node --import tsx bench/billing.ts [--requests 2000] [--json .bench/billing.json]
//
// bench/run.ts can also import runBillingBench() and print or store its report.
//
// PostgreSQL + Redis are measured when reachable (OMNIGATE_TEST_PG_URL / OMNIGATE_TEST_REDIS_URL, default
// 127.0.0.1), each run on a fresh database and Redis prefix that are dropped afterwards.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { startGateway } from '../src/server/start.js';
import { createKey } from '../src/store/api-keys.js';
import { prepareCall } from '../src/gateway/prepare.js';
import { settle } from '../src/gateway/settle.js';
import type { CallerKey } from '../src/gateway/gateway.js';
import type { ChatRequest } from '../src/providers/types.js';
import { openBackend, servicesUp, type BackendKind } from '../test/billing/support/backends.js';

const CONCURRENCY = [1, 16, 64];

const REQUEST: ChatRequest = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Write one sentence about a fox and a dog.' },
  ],
  max_tokens: 64,
};

export interface BillingRow {
  backend: BackendKind;
  limits: boolean;
  concurrency: number;
  /** Milliseconds a request waits for admission + reservation. */
  p50: number;
  p99: number;
  mean: number;
}

export interface BillingReport {
  at: string;
  requests: number;
  reserve: BillingRow[];
  /** Settlements written per second by the batching writer, all submitted at once. */
  settlePerSecond: Array<{ backend: BackendKind; records: number; perSecond: number }>;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (ms: number) => Math.round(ms * 1000) / 1000;

async function measure(kind: BackendKind, requests: number): Promise<{ rows: BillingRow[]; settle: BillingReport['settlePerSecond'][number] }> {
  const backend = await openBackend(kind);
  const dir = mkdtempSync(join(tmpdir(), 'omnigate-bench-billing-'));
  const config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${join(dir, 'bench.db')}`, OMNIGATE_ADMIN_KEY: 'bench-billing-admin',
    OPENAI_API_KEY: 'bench-key', OMNIGATE_LOG_LEVEL: 'silent', ...backend.env,
  });
  const running = await startGateway(config, { logger: pino({ level: 'silent' }) });
  const gw = running.gw;
  const rows: BillingRow[] = [];
  try {
    for (const limits of [false, true]) {
      const { row } = await createKey(gw.store, { name: 'bench', creditNano: 1e15, rpmLimit: limits ? 1e9 : null, tpmLimit: limits ? 2e9 : null });
      const key: CallerKey = { id: row.id, name: row.name, models: null, rpmLimit: row.rpm_limit, tpmLimit: row.tpm_limit };
      for (const concurrency of CONCURRENCY) {
        const latencies: number[] = [];
        // Every settlement of this cell is written before the next cell starts, so none of them runs
        // behind the next cell's measurements (or behind the settlement throughput below).
        const settling: Array<Promise<unknown>> = [];
        let next = 0;
        const worker = async () => {
          while (next++ < requests) {
            const t0 = performance.now();
            const prepared = await prepareCall(gw, key, REQUEST);
            latencies.push(performance.now() - t0);
            settling.push(settle(gw, {
              requestId: randomUUID(), keyId: key.id, requestedModel: REQUEST.model, served: prepared.model.entry,
              reservation: prepared.reservation, estimated: false, status: 'ok', httpStatus: 200, stream: false, startedAt: Date.now(),
              billable: { inputTokens: 25, cachedInputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: 20, reasoningTokens: 0, promptTokens: 25 },
            }));
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        await Promise.all(settling);
        latencies.sort((a, b) => a - b);
        rows.push({
          backend: kind, limits, concurrency,
          p50: round(pct(latencies, 50)), p99: round(pct(latencies, 99)), mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
        });
      }
    }

    // Settlement throughput: reserve first, then hand every settlement to the writer at once.
    const { row } = await createKey(gw.store, { name: 'bench-settle', creditNano: 1e15 });
    const key: CallerKey = { id: row.id, name: row.name, models: null, rpmLimit: null, tpmLimit: null };
    const prepared = [];
    for (let i = 0; i < requests; i++) prepared.push(await prepareCall(gw, key, REQUEST));
    const t0 = performance.now();
    await Promise.all(
      prepared.map((p) =>
        settle(gw, {
          requestId: randomUUID(), keyId: key.id, requestedModel: REQUEST.model, served: p.model.entry, reservation: p.reservation,
          estimated: false, status: 'ok', httpStatus: 200, stream: false, startedAt: Date.now(),
          billable: { inputTokens: 25, cachedInputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: 20, reasoningTokens: 0, promptTokens: 25 },
        }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { rows, settle: { backend: kind, records: requests, perSecond: Math.round(requests / seconds) } };
  } finally {
    await running.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Measures SQLite, and PostgreSQL + Redis when reachable. */
export async function runBillingBench(requests = 2000): Promise<BillingReport> {
  const kinds: BackendKind[] = ['sqlite'];
  if (await servicesUp()) kinds.push('postgres+redis');
  else process.stderr.write('PostgreSQL or Redis not reachable: measuring SQLite only\n');
  const report: BillingReport = { at: new Date().toISOString(), requests, reserve: [], settlePerSecond: [] };
  for (const kind of kinds) {
    const { rows, settle } = await measure(kind, requests);
    report.reserve.push(...rows);
    report.settlePerSecond.push(settle);
  }
  return report;
}

export function formatBillingReport(report: BillingReport): string {
  let out = `Billing path before the upstream call (rate-limit admission + credit reservation), ${report.requests} requests each\n`;
  out += 'backend          limits  conc   p50 ms   p99 ms  mean ms\n';
  for (const r of report.reserve) {
    out += `${r.backend.padEnd(16)} ${(r.limits ? 'yes' : 'no').padEnd(6)} ${String(r.concurrency).padStart(5)} ${r.p50.toFixed(3).padStart(8)} ${r.p99.toFixed(3).padStart(8)} ${r.mean.toFixed(3).padStart(8)}\n`;
  }
  out += '\nSettlement (usage record + charge + ledger row), batched, off the response path\n';
  for (const s of report.settlePerSecond) out += `${s.backend.padEnd(16)} ${s.perSecond} records/s\n`;
  return out;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  const { values: opts } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, json: { type: 'string' } } });
  const report = await runBillingBench(Number(opts.requests));
  process.stdout.write(`\n${formatBillingReport(report)}`);
  if (opts.json) {
    mkdirSync(dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, JSON.stringify(report, null, 2));
  }
}
