// Admin API: keys, credit and usage records (DESIGN.md section 2), behind OMNIGATE_ADMIN_KEY.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Gateway } from '../../gateway/gateway.js';
import { GatewayError, invalidRequest } from '../../gateway/errors.js';
import { addCredit, NegativeBalanceError } from '../../billing/credit.js';
import { nanoToUsd, usdToNano } from '../../billing/prices.js';
import { allowedModels, createKey, getKey, listKeys, updateKey, type ApiKeyRow } from '../../store/api-keys.js';
import { listUsage, usageToCsv, type UsageQuery } from '../../store/usage.js';
import { checkAdmin } from '../auth.js';

// The columns are 32-bit integers on PostgreSQL.
const limit = z.number().int().min(1).max(2_000_000_000).nullable().optional();
const newKeyBody = z.object({
  name: z.string().min(1).max(200),
  credit_usd: z.number().min(0).max(1e9).default(0),
  rpm_limit: limit,
  tpm_limit: limit,
  models: z.array(z.string().min(1)).nullable().optional(),
});
const patchKeyBody = z.object({
  name: z.string().min(1).max(200).optional(),
  disabled: z.boolean().optional(),
  rpm_limit: limit,
  tpm_limit: limit,
  models: z.array(z.string().min(1)).nullable().optional(),
});
const creditBody = z.object({
  amount_usd: z.number().min(-1e9).max(1e9).refine((v) => v !== 0, 'must not be zero'),
  note: z.string().max(500).optional(),
});
const usageQuery = z.object({
  key_id: z.string().optional(),
  since: z.string().optional(),
  until: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  format: z.enum(['json', 'csv']).optional(),
});

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue.path.join('.') || null;
    throw invalidRequest(param ? `Invalid value for '${param}': ${issue.message}.` : issue.message, param, 'invalid_value');
  }
  return parsed.data;
}

export function describeKey(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    key_prefix: row.key_prefix,
    balance_usd: nanoToUsd(row.balance_nano),
    reserved_usd: nanoToUsd(row.reserved_nano),
    spent_usd: nanoToUsd(row.spent_nano),
    rpm_limit: row.rpm_limit,
    tpm_limit: row.tpm_limit,
    models: allowedModels(row),
    disabled: Boolean(row.disabled),
    created_at: new Date(row.created_at).toISOString(),
  };
}

/** Accepts ISO dates or epoch milliseconds. */
function parseTime(value: string | undefined, param: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms)) throw invalidRequest(`Invalid value for '${param}': expected an ISO date or epoch milliseconds.`, param);
  return ms;
}

/** A typo in an allow-list would silently lock a key out of a model: refuse ids the catalog lacks. */
function checkModels(gw: Gateway, models: string[] | null | undefined): void {
  const unknown = (models ?? []).filter((id) => !gw.catalog.get(id));
  if (unknown.length) throw invalidRequest(`Unknown model id(s) in 'models': ${unknown.join(', ')}.`, 'models', 'model_not_found');
}

const keyNotFound = (id: string) =>
  new GatewayError(404, { message: `No API key with id ${id}.`, type: 'invalid_request_error', param: 'id', code: 'key_not_found' });

export function registerAdminRoutes(app: FastifyInstance, gw: Gateway): void {
  // On these routes only: a hook on the whole app would run on every /v1 request too.
  const admin = { onRequest: async (request: FastifyRequest) => checkAdmin(gw, request) };

  app.post('/admin/keys', admin, async (request, reply) => {
    const body = parseBody(newKeyBody, request.body);
    checkModels(gw, body.models);
    const { row, secret } = await createKey(gw.store, {
      name: body.name,
      creditNano: usdToNano(body.credit_usd),
      rpmLimit: body.rpm_limit,
      tpmLimit: body.tpm_limit,
      models: body.models,
    });
    return reply.code(201).send({ ...describeKey(row), key: secret });
  });

  app.get('/admin/keys', admin, async () => ({ object: 'list', data: (await listKeys(gw.store)).map(describeKey) }));

  app.get<{ Params: { id: string } }>('/admin/keys/:id', admin, async (request) => {
    const row = await getKey(gw.store, request.params.id);
    if (!row) throw keyNotFound(request.params.id);
    return describeKey(row);
  });

  app.patch<{ Params: { id: string } }>('/admin/keys/:id', admin, async (request) => {
    const body = parseBody(patchKeyBody, request.body);
    checkModels(gw, body.models);
    if (!(await getKey(gw.store, request.params.id))) throw keyNotFound(request.params.id);
    const row = await updateKey(gw.store, request.params.id, {
      name: body.name,
      disabled: body.disabled,
      rpmLimit: body.rpm_limit,
      tpmLimit: body.tpm_limit,
      models: body.models,
    });
    return describeKey(row!);
  });

  app.post<{ Params: { id: string } }>('/admin/keys/:id/credit', admin, async (request) => {
    const body = parseBody(creditBody, request.body);
    let balance: number | undefined;
    try {
      balance = await addCredit(gw.store, request.params.id, usdToNano(body.amount_usd), body.note ?? null);
    } catch (err) {
      if (err instanceof NegativeBalanceError) throw invalidRequest('This debit would take the balance below zero.', 'amount_usd', 'invalid_value');
      throw err;
    }
    if (balance === undefined) throw keyNotFound(request.params.id);
    const row = await getKey(gw.store, request.params.id);
    return { ...describeKey(row!), balance_usd: nanoToUsd(balance) };
  });

  app.get('/admin/usage', admin, async (request, reply) => {
    const q = parseBody(usageQuery, request.query);
    const query: UsageQuery = { keyId: q.key_id, since: parseTime(q.since, 'since'), until: parseTime(q.until, 'until'), limit: q.limit };
    const records = await listUsage(gw.store, query);
    if (q.format === 'csv' || (q.format === undefined && String(request.headers.accept ?? '').includes('text/csv'))) {
      return reply.header('content-type', 'text/csv; charset=utf-8').send(usageToCsv(records));
    }
    return { object: 'list', data: records };
  });
}
