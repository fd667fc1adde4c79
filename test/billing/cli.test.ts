// The billing side of the `omnigate` CLI, as an operator runs it against the gateway's database:
// credit and debit, disable, usage as JSON and CSV, and `ledger verify` proving (or disproving) the books.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { openStore } from '../../src/store/database.js';
import { reserveCredit } from '../../src/billing/credit.js';
import { settleCredits } from '../../src/billing/settlement.js';

const run = promisify(execFile);

describe('omnigate CLI: credit, usage and ledger', () => {
  let dir: string;
  let databaseUrl: string;
  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, DATABASE_URL: databaseUrl }, cwd: process.cwd() });
  const json = async (...args: string[]) => JSON.parse((await cli(...args)).stdout);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'omnigate-billing-cli-'));
    databaseUrl = `file:${join(dir, 'omnigate.db')}`;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // Each CLI run is a process start (about a second), so the runs are few and independent ones run together.
  it('creates a key with limits, credits it, refuses an overdraft, disables it', async () => {
    const key = await json('keys', 'create', '--name', 'ops', '--credit', '5', '--rpm', '60', '--tpm', '10000', '--models', 'gpt-4.1, gpt-4o-mini');
    assert.deepEqual([key.balance_usd, key.rpm_limit, key.tpm_limit, key.models], [5, 60, 10_000, ['gpt-4.1', 'gpt-4o-mini']]);
    assert.equal((await json('keys', 'credit', key.id, '2.5')).balance_usd, 7.5);
    const [overdraft, disabled] = await Promise.allSettled([cli('keys', 'credit', key.id, '-7.51'), json('keys', 'disable', key.id)]);
    assert.equal(overdraft.status, 'rejected');
    assert.ok(overdraft.status === 'rejected' && overdraft.reason.code === 1 && /below zero/.test(overdraft.reason.stderr));
    assert.ok(disabled.status === 'fulfilled' && disabled.value.disabled === true && disabled.value.balance_usd === 7.5);
  });

  it('prints usage records as JSON or CSV, and ledger verify passes, then catches a tampered balance', async () => {
    const key = await json('keys', 'create', '--name', 'billed', '--credit', '1');
    const store = await openStore(databaseUrl);
    try {
      const held = await reserveCredit(store, key.id, () => 50_000, 60_000);
      assert.ok(held.ok);
      await settleCredits(store, [{
        reservation: held.reservation,
        usage: {
          id: randomUUID(), key_id: key.id, model: 'gpt-4.1', provider: 'openai', deployment: null, prompt_tokens: 10, completion_tokens: 2,
          cached_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, cost_nano: 36_000, status: 'ok', http_status: 200, error_code: null,
          estimated: 0, stream: 0, latency_ms: 5, ttft_ms: null,
        },
      }]);
      const [records, csvOut, verified] = await Promise.all([json('usage', '--key', key.id), cli('usage', '--key', key.id, '--csv'), json('ledger', 'verify')]);
      assert.deepEqual(records.map((r: any) => [r.model, r.cost_usd]), [['gpt-4.1', 0.000036]]);
      const csv = csvOut.stdout.trim().split('\n');
      assert.equal(csv.length, 2);
      assert.match(csv[0], /^id,created_at,key_id,model,/);
      assert.deepEqual([verified.ok, verified.mismatches], [true, []]);

      await store.db.updateTable('api_keys').set({ balance_nano: sql`balance_nano + 7` }).where('id', '=', key.id).execute();
      await assert.rejects(cli('ledger', 'verify'), (err: any) => {
        const report = JSON.parse(err.stdout);
        return err.code === 2 && report.ok === false && report.mismatches[0].key_id === key.id;
      });
    } finally {
      await store.close();
    }
  });
});
