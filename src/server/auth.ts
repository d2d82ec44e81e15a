/**
 * API keys with scopes, and the loopback rule for servers without keys.
 *
 * Keys come from `CHATSTORE_API_KEYS` (or `AppOptions.apiKeys`), written as
 *
 * ```text
 * CHATSTORE_API_KEYS="<key>:<scope>[,<scope>…][;<key>:<scope>…]"
 * CHATSTORE_API_KEYS="3f9c…e1:read,write;b71d…0a:admin"
 * ```
 *
 * Entries are separated by `;` or newlines, a key from its scopes by the last `:`, scopes by `,`.
 * Scopes are `read`, `write` and `admin`; `admin` implies `read` and `write`, `write` does not imply
 * `read`. A key is at least 16 characters of letters, digits and `-_.~+/=` (e.g. `openssl rand
 * -hex 24`). Clients send a key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`.
 *
 * Keys are compared in constant time: the presented key and every configured key are hashed with
 * SHA-256 (Web Crypto), and every digest is compared byte by byte without an early exit, so the
 * time taken says nothing about how much of a key was right, or which key matched.
 *
 * Without keys the app serves loopback clients only (`127.0.0.0/8`, `::1`): the peer address comes
 * from the runtime edge (`ServerBindings.remoteAddress`, the socket's address; `X-Forwarded-For` is
 * never trusted), and a request whose address is unknown is refused. It also serves only requests
 * whose `Host` header names a loopback host (`localhost`, `127.x.x.x`, `[::1]`, any port): a web page
 * on `attacker.example` whose name was rebound to 127.0.0.1 (DNS rebinding) reaches the socket from
 * loopback, but its browser still sends `Host: attacker.example`. With keys the Host header is not
 * checked: a rebinding page does not have a key, and deployments behind proxies use any host name.
 */
import type { MiddlewareHandler } from 'hono';
import { ChatStoreError } from '../errors.js';
import type { ServerEnv } from './env.js';
import { permissionDenied, unauthenticated } from './errors.js';
import { type Principal, SCOPES, type Scope } from './principal.js';

/** One configured key. */
export interface ApiKey {
  key: string;
  scopes: Scope[];
}

const MIN_KEY_LENGTH = 16;
const KEY_TEXT = /^[A-Za-z0-9\-_.~+/=]+$/;

/**
 * Parses the `CHATSTORE_API_KEYS` format; an empty text means no keys. Errors name the entry number
 * and the problem, never any character of a key or of the text around it.
 */
export function parseApiKeys(text: string): ApiKey[] {
  const entries = text
    .split(/[;\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const where = `CHATSTORE_API_KEYS entry ${index + 1}`;
    const colon = entry.lastIndexOf(':');
    if (colon <= 0) throw badKeys(`${where} needs scopes: <key>:read,write`);
    const key = entry.slice(0, colon).trim();
    if (key.length < MIN_KEY_LENGTH || !KEY_TEXT.test(key)) {
      throw badKeys(`${where}: a key is at least ${MIN_KEY_LENGTH} characters of A-Z a-z 0-9 - _ . ~ + / =`);
    }
    if (seen.has(key)) throw badKeys(`${where} repeats an earlier key`);
    seen.add(key);
    const scopes = entry
      .slice(colon + 1)
      .split(',')
      .map((scope) => scope.trim())
      .filter((scope) => scope !== '');
    if (scopes.length === 0) throw badKeys(`${where} needs at least one scope (read, write, admin)`);
    scopes.forEach((scope, position) => {
      // Never echoed: a key written after a ',' instead of a ';' reads as a scope.
      if (!(SCOPES as readonly string[]).includes(scope)) {
        throw badKeys(`${where}: scope ${position + 1} is not one of ${SCOPES.join(', ')}`);
      }
    });
    return { key, scopes: [...new Set(scopes)] as Scope[] };
  });
}

/** The configured keys, hashed once, and a constant-time check against them. */
export interface Keyring {
  /** True when at least one key is configured (the server then requires one on every protected route). */
  readonly enabled: boolean;
  /** The principal of a presented key, or undefined when it matches none. */
  verify(presented: string): Promise<Principal | undefined>;
}

export function createKeyring(keys: readonly ApiKey[]): Keyring {
  const scopes = keys.map((entry) => effectiveScopes(entry.scopes));
  let digests: Promise<Uint8Array[]> | undefined;
  return {
    enabled: keys.length > 0,
    async verify(presented) {
      digests ??= Promise.all(keys.map((entry) => sha256(entry.key)));
      const [digest, stored] = await Promise.all([sha256(presented), digests]);
      let found: Principal | undefined;
      // Every key is compared in full, whatever matched before.
      stored.forEach((candidate, keyIndex) => {
        if (constantTimeEqual(digest, candidate)) found = { keyIndex, scopes: scopes[keyIndex] as ReadonlySet<Scope> };
      });
      return found;
    },
  };
}

/**
 * When no key is configured, refuses non-loopback clients and requests whose `Host` is not a
 * loopback name (DNS rebinding); does nothing otherwise.
 */
export function loopbackOnly(keyring: Keyring): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    if (!keyring.enabled) {
      if (!isLoopbackAddress(c.env?.remoteAddress)) {
        throw permissionDenied(
          'this server has no API keys configured and serves loopback clients only; set CHATSTORE_API_KEYS to allow others',
        );
      }
      // A browser always sends Host; an in-process request (`app.request('/path')`, a Worker's
      // fetch) may not, and then its URL names the host.
      if (!isLoopbackHostHeader(c.req.header('host') ?? new URL(c.req.url).host)) {
        throw permissionDenied(
          'this server has no API keys configured and serves requests for a loopback host name only (Host: localhost, 127.0.0.1 or [::1], with any port); set CHATSTORE_API_KEYS to serve other host names',
        );
      }
    }
    await next();
  };
}

/**
 * True for a `Host` header naming this machine by a loopback name: `localhost`, a `127.x.x.x`
 * literal or `[::1]`, each with an optional port, in any case. An empty value is false.
 */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  const match = /^(localhost|\d{1,3}(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i.exec(host ?? '');
  const name = match?.[1];
  if (name === undefined) return false;
  if (!/^\d/.test(name)) return true;
  const octets = name.split('.').map(Number);
  return octets[0] === 127 && octets.every((octet) => octet <= 255);
}

/**
 * Requires a key with `scope` (401 without a valid key, 403 when it lacks the scope). On a server
 * without keys every loopback caller has every scope.
 */
export function requireScope(keyring: Keyring, scope: Scope): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    if (!keyring.enabled) return next();
    const presented = presentedKey(c.req.header('authorization'), c.req.header('x-api-key'));
    if (presented === undefined) throw unauthenticated('an API key is required (Authorization: Bearer <key>)');
    const principal = await keyring.verify(presented);
    if (principal === undefined) throw unauthenticated('the API key is not valid');
    if (!principal.scopes.has(scope)) throw permissionDenied(`the API key lacks the ${scope} scope`);
    c.set('principal', principal);
    return next();
  };
}

/** True for `127.0.0.0/8`, `::1` and IPv4-mapped loopback (`::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const ip = address.toLowerCase().replace(/^::ffff:/, '');
  return ip === '::1' || ip === '0:0:0:0:0:0:0:1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

/** True when binding to `host` only accepts loopback clients (`localhost`, `127.x.x.x`, `::1`). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return bare.toLowerCase() === 'localhost' || isLoopbackAddress(bare);
}

function effectiveScopes(scopes: readonly Scope[]): ReadonlySet<Scope> {
  return new Set<Scope>(scopes.includes('admin') ? SCOPES : scopes);
}

/**
 * The key a request presents: a Bearer token when `Authorization` uses that scheme (even when it is
 * malformed: then there is none), else `X-Api-Key`. Another scheme (`Basic` for a proxy in front,
 * say) does not hide the `X-Api-Key` header.
 */
function presentedKey(authorization: string | undefined, apiKeyHeader: string | undefined): string | undefined {
  if (authorization !== undefined && /^Bearer(?:[ \t]|$)/i.test(authorization)) {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    return match?.[1];
  }
  const key = apiKeyHeader?.trim();
  return key === undefined || key === '' ? undefined : key;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] ?? 0);
  return difference === 0;
}

function badKeys(message: string): ChatStoreError {
  return new ChatStoreError('INVALID_ARGUMENT', message, { path: 'CHATSTORE_API_KEYS' });
}
