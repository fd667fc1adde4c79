// Bearer authentication for /v1 and /aichat (API keys) and /admin (the admin key).

import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CallerKey, Gateway } from '../gateway/gateway.js';
import { GatewayError, invalidApiKey } from '../gateway/errors.js';
import { allowedModels, findKeyBySecret } from '../store/api-keys.js';

/** Key lookups are cached briefly: a disabled key or changed limit takes effect within this time. */
const KEY_CACHE_MS = 2_000;
const KEY_CACHE_MAX = 10_000;

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1].trim();
}

export function createKeyAuthenticator(gw: Gateway) {
  const cache = new Map<string, { key: CallerKey | null; until: number }>();
  return async function authenticate(request: FastifyRequest): Promise<CallerKey> {
    const secret = bearerToken(request);
    if (!secret) throw invalidApiKey('You did not provide an API key. Send it as "Authorization: Bearer sk-…".');
    const now = Date.now();
    const hit = cache.get(secret);
    let key = hit && hit.until > now ? hit.key : undefined;
    if (key === undefined) {
      const row = await findKeyBySecret(gw.store, secret);
      key = row && !row.disabled
        ? { id: row.id, name: row.name, models: allowedModels(row), rpmLimit: row.rpm_limit, tpmLimit: row.tpm_limit }
        : null;
      if (cache.size >= KEY_CACHE_MAX) cache.clear();
      cache.set(secret, { key, until: now + KEY_CACHE_MS });
    }
    if (!key) throw invalidApiKey();
    return key;
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export function checkAdmin(gw: Gateway, request: FastifyRequest): void {
  const token = bearerToken(request);
  // Compare digests so the comparison time does not depend on how much of the key matched.
  if (!token || !timingSafeEqual(digest(token), digest(gw.config.adminKey))) {
    throw new GatewayError(401, { message: 'Admin endpoints need "Authorization: Bearer <OMNIGATE_ADMIN_KEY>".', type: 'invalid_request_error', param: null, code: 'invalid_admin_key' });
  }
}
