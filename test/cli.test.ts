// The `omnigate` CLI as an operator runs it: a real process against a real database file.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', 'src/cli.ts'];

describe('omnigate CLI', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => run(process.execPath, [...CLI, ...args], { env, cwd: process.cwd() });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'omnigate-cli-'));
    env = { ...process.env, DATABASE_URL: `file:${join(dir, 'cli.db')}`, OPENAI_API_KEY: 'sim-key' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('keys create prints the secret once; keys list shows the balance but not the secret', async () => {
    const created = JSON.parse((await cli('keys', 'create', '--name', 'team-a', '--credit', '10')).stdout);
    assert.match(created.key, /^sk-og-/);
    assert.equal(created.name, 'team-a');
    assert.equal(created.balance_usd, 10);
    const listed = (await cli('keys', 'list')).stdout;
    const keys = JSON.parse(listed);
    assert.equal(keys.length, 1);
    assert.equal(keys[0].id, created.id);
    assert.equal(keys[0].balance_usd, 10);
    assert.ok(!listed.includes(created.key), 'the secret is never shown again');
  });

  test('usage --key lists records (none yet) and models lists the catalog', async () => {
    const keys = JSON.parse((await cli('keys', 'list')).stdout);
    assert.deepEqual(JSON.parse((await cli('usage', '--key', keys[0].id)).stdout), []);
    const models = JSON.parse((await cli('models')).stdout);
    assert.equal(models.length, 30);
    assert.equal(models.find((m: any) => m.id === 'gpt-4o').omnigate.configured, true);
    assert.equal(models.find((m: any) => m.id === 'grok-4').omnigate.configured, false);
  });

  test('a bad --credit is refused with a message', async () => {
    await assert.rejects(cli('keys', 'create', '--name', 'x', '--credit', 'lots'), (err: any) => err.code !== 0 && /US dollars/.test(err.stderr));
  });

  test('an invalid PORT stops the server with one line naming it', async () => {
    await assert.rejects(
      run(process.execPath, [...CLI, 'serve'], { env: { ...env, PORT: 'abc' } }),
      (err: any) => err.code === 1 && /PORT/.test(err.stderr) && err.stderr.trim().split('\n').length === 1,
    );
  });

  test('serve is ready within 5 s and answers /healthz', async () => {
    const child = spawn(process.execPath, [...CLI, 'serve'], { env: { ...env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const started = Date.now();
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const match = /"url":"(http:[^"]+)"/.exec(out);
          if (match) resolve(match[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}`)));
        setTimeout(() => reject(new Error('not ready in 5 s')), 5_000);
      });
      assert.ok(Date.now() - started < 5_000);
      const res = await fetch(`${url}/healthz`);
      assert.deepEqual(await res.json(), { status: 'ok' });
    } finally {
      child.kill('SIGTERM');
    }
  });
});
