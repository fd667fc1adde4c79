// GET /v1/me — the calling key's own view: id, name, balance and spend.

import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway/gateway.js';
import { getKey } from '../../store/api-keys.js';
import { nanoToUsd } from '../../billing/prices.js';
import { invalidApiKey } from '../../gateway/errors.js';
import type { authenticate } from '../app.js';

export function registerMeRoute(app: FastifyInstance, gw: Gateway, auth: authenticate): void {
  app.get('/v1/me', async (request) => {
    const key = await auth(request);
    const row = await getKey(gw.store, key.id);
    if (!row) throw invalidApiKey();
    return {
      id: row.id,
      name: row.name,
      balance_usd: nanoToUsd(row.balance_nano),
      reserved_usd: nanoToUsd(row.reserved_nano),
      available_usd: nanoToUsd(row.balance_nano - row.reserved_nano),
      spent_usd: nanoToUsd(row.spent_nano),
      rpm_limit: row.rpm_limit,
      tpm_limit: row.tpm_limit,
      models: row.models ? JSON.parse(row.models) : null,
    };
  });
}
