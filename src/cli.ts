#!/usr/bin/env node
// `omnigate` — serve the gateway, or manage keys and read usage straight from the database
// (DATABASE_URL), so an operator needs no admin key or running server for it.

import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, ConfigError } from './config.js';
import { Catalog } from './catalog/catalog.js';
import { openStore, type Store } from './store/database.js';
import { createKey, getKey, listKeys, updateKey } from './store/api-keys.js';
import { listUsage, usageToCsv } from './store/usage.js';
import { addCredit } from './billing/credit.js';
import { nanoToUsd, usdToNano } from './billing/prices.js';
import { describeKey } from './server/routes/admin.js';
import { describeModel } from './server/routes/models.js';
import { verifyLedger } from './billing/ledger.js';
import { serve } from './main.js';

function config() {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`omnigate: invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(config().databaseUrl);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

function fail(message: string): never {
  process.stderr.write(`omnigate: ${message}\n`);
  process.exit(1);
}

function usd(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number of US dollars');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 2_000_000_000) throw new InvalidArgumentError('expected a positive integer up to 2,000,000,000');
  return n;
}

const program = new Command('omnigate').description('An OpenAI-compatible LLM gateway with its own keys, credits and conversations.');

program.command('serve').description('start the gateway (same as npm start)').action(() => serve());

const keys = program.command('keys').description('manage API keys');
keys
  .command('create')
  .description('create a key; its secret is printed once')
  .requiredOption('--name <name>', 'a name to recognise the key by')
  .option('--credit <usd>', 'initial credit in USD', usd, 0)
  .option('--rpm <n>', 'requests per minute limit', positiveInt)
  .option('--tpm <n>', 'tokens per minute limit', positiveInt)
  .option('--models <ids>', 'comma-separated list of allowed model ids')
  .action((o) =>
    withStore(async (store) => {
      if (o.credit < 0) fail('--credit cannot be negative');
      const { row, secret } = await createKey(store, {
        name: o.name,
        creditNano: usdToNano(o.credit),
        rpmLimit: o.rpm ?? null,
        tpmLimit: o.tpm ?? null,
        models: o.models ? String(o.models).split(',').map((s: string) => s.trim()).filter(Boolean) : null,
      });
      print({ ...describeKey(row), key: secret });
    }),
  );
keys.command('list').description('list keys with balances').action(async () => {
  await withStore(async (store) => print((await listKeys(store)).map(describeKey)));
});
keys
  .command('credit')
  .description('add (or, with a negative amount, remove) credit')
  .argument('<id>', 'key id')
  .argument('<usd>', 'amount in USD', usd)
  .action((id: string, amount: number) =>
    withStore(async (store) => {
      if (amount === 0) fail('the amount must not be zero');
      try {
        const balance = await addCredit(store, id, usdToNano(amount), 'cli');
        if (balance === undefined) fail(`no key with id ${id}`);
        print({ id, balance_usd: nanoToUsd(balance) });
      } catch (err) {
        if (err instanceof RangeError) fail('that debit would take the balance below zero');
        throw err;
      }
    }),
  );
for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
  keys
    .command(name)
    .description(`${name} a key`)
    .argument('<id>', 'key id')
    .action((id: string) =>
      withStore(async (store) => {
        if (!(await getKey(store, id))) fail(`no key with id ${id}`);
        print(describeKey((await updateKey(store, id, { disabled }))!));
      }),
    );
}

program
  .command('models')
  .description('list the model catalog with prices and capabilities')
  .action(() => {
    const catalog = new Catalog(config());
    print(catalog.list().map((m) => describeModel(m, catalog.get(m.id)!.deployments.some((d) => d.apiKey))));
  });

program
  .command('usage')
  .description('usage records of a key, oldest first')
  .requiredOption('--key <id>', 'key id')
  .option('--since <iso>', 'from this time (ISO date)')
  .option('--until <iso>', 'before this time (ISO date)')
  .option('--limit <n>', 'at most this many records', positiveInt, 1000)
  .option('--csv', 'print CSV instead of JSON')
  .action((o) =>
    withStore(async (store) => {
      const time = (value: string | undefined, flag: string) => {
        if (value === undefined) return undefined;
        const ms = Date.parse(value);
        if (Number.isNaN(ms)) fail(`${flag} must be an ISO date`);
        return ms;
      };
      const records = await listUsage(store, { keyId: o.key, since: time(o.since, '--since'), until: time(o.until, '--until'), limit: o.limit });
      if (o.csv) process.stdout.write(usageToCsv(records));
      else print(records);
    }),
  );

program
  .command('ledger')
  .description('ledger checks')
  .command('verify')
  .description("prove every key's balance equals the sum of its ledger rows")
  .action(() =>
    withStore(async (store) => {
      const report = await verifyLedger(store);
      print(report);
      if (!report.ok) process.exit(2);
    }),
  );

program.parseAsync(process.argv).catch((err) => fail((err as Error).message));
