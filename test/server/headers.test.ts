/** Response headers of an API that serves personal data: nosniff, no-store, the /docs CSP, CORS (closed by default). */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { API_KEYS, READ_KEY, testApp, WRITE_KEY } from './helpers.js';

/** One request of each kind: documents, probes, data, errors of every origin (schema, store, auth, route). */
const REQUESTS: [string, string, unknown?][] = [
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/openapi.json'],
  ['GET', '/docs'],
  ['GET', '/metrics'],
  ['GET', '/v1/stats'],
  ['GET', '/v1/export'],
  ['GET', '/v1/conversations/c1/messages/recent'],
  ['POST', '/v1/conversations/c1/messages', { role: 'user', content: 'hi' }],
  ['POST', '/v1/conversations/c1/messages', { role: 'robot' }],
  ['GET', '/v1/messages/nope'],
  ['GET', '/v1/nope'],
  ['GET', '/nope'],
  ['GET', '/admin/storage/stats'],
  ['GET', '/admin/storage/conversations/nope'],
];

describe('X-Content-Type-Options', () => {
  test('is nosniff on every response, errors and refusals included', async () => {
    const { call } = testApp();
    for (const [method, path, body] of REQUESTS) {
      const res = await call(method, path, { body });
      expect(res.headers.get('x-content-type-options'), `${method} ${path} ${res.status}`).toBe('nosniff');
    }
    const refused = await call('GET', '/v1/export', { headers: { host: 'attacker.example' } });
    expect([refused.status, refused.headers.get('x-content-type-options')]).toStrictEqual([403, 'nosniff']);
    const unauthenticated = await testApp({ apiKeys: API_KEYS }).call('GET', '/v1/stats');
    expect([unauthenticated.status, unauthenticated.headers.get('x-content-type-options')]).toStrictEqual([
      401,
      'nosniff',
    ]);
  });
});

describe('Cache-Control', () => {
  test('is no-store on data routes (/v1, /admin), probes, metrics and every error; the documents may be cached', async () => {
    const { call } = testApp();
    for (const [method, path, body] of REQUESTS) {
      const res = await call(method, path, { body });
      const expected = path === '/docs' || path === '/openapi.json' ? null : 'no-store';
      expect(res.headers.get('cache-control'), `${method} ${path} ${res.status}`).toBe(expected);
    }
    const refused = await call('GET', '/v1/export', { headers: { host: 'attacker.example' } });
    expect([refused.status, refused.headers.get('cache-control')]).toStrictEqual([403, 'no-store']);
    const keyed = testApp({ apiKeys: API_KEYS });
    for (const key of [undefined, WRITE_KEY, READ_KEY]) {
      const res = await keyed.call('GET', '/admin/storage/stats', { key });
      expect([res.status, res.headers.get('cache-control')]).toStrictEqual([key === undefined ? 401 : 403, 'no-store']);
    }
  });
});

describe('/docs', () => {
  test('has a Content-Security-Policy that allows its own inline style and nothing else, from nowhere else', async () => {
    const { call } = testApp();
    const res = await call('GET', '/docs');
    const styles = [...res.text.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => match[1] as string);
    expect(styles).toHaveLength(1);
    const hash = createHash('sha256')
      .update(styles[0] as string)
      .digest('base64');
    expect(res.headers.get('content-security-policy')).toBe(
      `default-src 'none'; style-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    // What the policy relies on: no script, no external resource, no inline style attribute.
    expect(res.text).not.toMatch(/<script|<link|<img|<iframe|src=|style=|https?:\/\//i);
    // The JSON documents carry no policy of their own.
    expect((await call('GET', '/openapi.json')).headers.get('content-security-policy')).toBeNull();
  });
});

describe('CORS', () => {
  const ORIGIN = 'https://app.example.com';
  const preflight = {
    origin: ORIGIN,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type,idempotency-key,x-api-key',
  };

  test('is closed by default: no CORS header for any origin, no preflight answer', async () => {
    const { call } = testApp();
    const res = await call('GET', '/v1/stats', { headers: { origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const options = await call('OPTIONS', '/v1/conversations/c1/messages', { headers: preflight });
    expect(options.status).toBe(404);
    expect([...options.headers.keys()].filter((name) => name.startsWith('access-control-'))).toStrictEqual([]);
  });

  test('with origins configured: exact matches only, preflights answered without a key, errors readable', async () => {
    const { call } = testApp({ apiKeys: API_KEYS, corsOrigins: [ORIGIN, 'http://localhost:3000'] });
    const allowed = await call('GET', '/v1/stats', { headers: { origin: ORIGIN }, key: READ_KEY });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-expose-headers')).toBe('X-Request-Id,Location,WWW-Authenticate');
    expect(allowed.headers.get('vary')).toContain('Origin');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();

    for (const origin of [
      'https://evil.example',
      'https://app.example.com.evil.example',
      'http://app.example.com',
      'null',
    ]) {
      const other = await call('GET', '/v1/stats', { headers: { origin }, key: READ_KEY });
      expect(other.headers.get('access-control-allow-origin'), origin).toBeNull();
    }

    const answer = await call('OPTIONS', '/v1/conversations/c1/messages', { headers: preflight });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(answer.headers.get('access-control-allow-methods')).toBe('GET,POST,PATCH,DELETE');
    expect(answer.headers.get('access-control-allow-headers')).toBe(
      'Authorization,X-Api-Key,Content-Type,Idempotency-Key,X-Request-Id',
    );
    expect(answer.headers.get('access-control-max-age')).toBe('600');

    const unauthenticated = await call('GET', '/v1/stats', { headers: { origin: 'http://localhost:3000' } });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
  });
});
