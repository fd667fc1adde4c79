// Fetches client-supplied URLs (images, reference documents) without letting a client reach the
// gateway's own network: no loopback, private, link-local or metadata addresses (checked on the literal
// host and on every DNS answer, so rebinding cannot slip through), a size cap, a timeout, a content-type check.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { invalidRequest } from './errors.js';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['::ffff:0:0', 96]] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return blocked.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as unknown as LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(Object.assign(new Error(`${hostname} resolves to a private address`), { code: 'EPRIVATE' }), '', 0);
    if ((options as { all?: boolean }).all) return (callback as any)(null, list);
    callback(null, list[0].address, list[0].family);
  });
};

const publicAgent = new Agent({ connect: { lookup: guardedLookup, timeout: 5_000 }, keepAliveTimeout: 10_000 });
const anyAgent = new Agent({ connect: { timeout: 5_000 }, keepAliveTimeout: 10_000 });

export interface SafeFetchOptions {
  maxBytes: number;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Accepts the response content type (lower-cased, without parameters). */
  accept: (contentType: string) => boolean;
  /** What the URL is for, in error messages ("image", "reference"). */
  what: string;
  param?: string;
}

export interface FetchedResource {
  url: string;
  contentType: string;
  body: Buffer;
}

export async function safeFetch(rawUrl: string, opts: SafeFetchOptions): Promise<FetchedResource> {
  const fail = (why: string) => invalidRequest(`Could not fetch the ${opts.what} at ${rawUrl}: ${why}.`, opts.param ?? null, 'invalid_url');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw fail('not a valid URL');
  }
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  for (let redirects = 0; redirects <= 3; redirects++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail('only http and https URLs are fetched');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!opts.allowPrivate && (isPrivateAddress(host) || host === 'localhost' || host.endsWith('.localhost'))) {
      throw fail('private and loopback addresses are not allowed');
    }
    let res;
    try {
      res = await request(url, { method: 'GET', dispatcher: opts.allowPrivate ? anyAgent : publicAgent, signal: deadline, headers: { accept: '*/*' } });
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw fail(code === 'EPRIVATE' ? 'private and loopback addresses are not allowed' : deadline.aborted ? 'timed out' : 'connection failed');
    }
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof res.headers.location === 'string') {
      await res.body.dump();
      url = new URL(res.headers.location, url);
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw fail(`HTTP ${res.statusCode}`);
    }
    const contentType = String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!opts.accept(contentType)) {
      await res.body.dump();
      throw fail(`unsupported content type "${contentType || 'none'}"`);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      await res.body.dump();
      throw fail(`larger than ${opts.maxBytes} bytes`);
    }
    const parts: Buffer[] = [];
    let size = 0;
    try {
      for await (const part of res.body) {
        size += (part as Buffer).length;
        if (size > opts.maxBytes) {
          res.body.destroy();
          throw fail(`larger than ${opts.maxBytes} bytes`);
        }
        parts.push(part as Buffer);
      }
    } catch (err) {
      if ((err as Error).name === 'GatewayError') throw err;
      throw fail(deadline.aborted ? 'timed out' : 'connection failed');
    }
    return { url: url.toString(), contentType, body: Buffer.concat(parts) };
  }
  throw fail('too many redirects');
}
