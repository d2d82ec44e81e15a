/** API keys and scopes, the loopback rule of keyless servers, and what logs never contain. */
import { describe, expect, test } from 'vitest';
import { ChatStoreError } from '../../src/errors.js';
import { createKeyring, isLoopbackAddress, isLoopbackHost, parseApiKeys } from '../../src/server/auth.js';
import { ADMIN_KEY, API_KEYS, envelope, READ_KEY, READ_WRITE_KEY, REQUEST_ID, testApp, WRITE_KEY } from './helpers.js';

const KEY_A = 'a'.repeat(16);
const KEY_B = 'B-b_b.b~b+b/b=bbbbb';

describe('parseApiKeys', () => {
  test('reads key:scope,scope entries separated by semicolons or newlines', () => {
    expect(parseApiKeys(`${KEY_A}:read,write; ${KEY_B} : admin\n\n${KEY_A}x:read,read`)).toStrictEqual([
      { key: KEY_A, scopes: ['read', 'write'] },
      { key: KEY_B, scopes: ['admin'] },
      { key: `${KEY_A}x`, scopes: ['read'] },
    ]);
    expect(parseApiKeys('')).toStrictEqual([]);
    expect(parseApiKeys(' ;\n ')).toStrictEqual([]);
  });

  test.each([
    [KEY_A, 'CHATSTORE_API_KEYS entry 1 needs scopes: <key>:read,write'],
    [`${KEY_A}:`, 'CHATSTORE_API_KEYS entry 1 needs at least one scope (read, write, admin)'],
    [`${KEY_A}:read,root`, 'CHATSTORE_API_KEYS entry 1: scope 2 is not one of read, write, admin'],
    // a second key written after a comma instead of a semicolon reads as a scope: never echoed
    [`${KEY_A}:read,${KEY_B}`, 'CHATSTORE_API_KEYS entry 1: scope 2 is not one of read, write, admin'],
    [
      `${KEY_A}:read\n${KEY_B}:admin,sk-live-0123456789`,
      'CHATSTORE_API_KEYS entry 2: scope 2 is not one of read, write, admin',
    ],
    ['short-secret:read', 'CHATSTORE_API_KEYS entry 1: a key is at least 16 characters of A-Z a-z 0-9 - _ . ~ + / ='],
    [
      `${KEY_A}:read;${'x y'.repeat(9)}:read`,
      'CHATSTORE_API_KEYS entry 2: a key is at least 16 characters of A-Z a-z 0-9 - _ . ~ + / =',
    ],
    [`${KEY_A}:read;${KEY_A}:admin`, 'CHATSTORE_API_KEYS entry 2 repeats an earlier key'],
  ])('%j is refused without repeating the key', (text, message) => {
    let caught: unknown;
    try {
      parseApiKeys(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ChatStoreError);
    expect({ code: (caught as ChatStoreError).code, message: (caught as ChatStoreError).message }).toStrictEqual({
      code: 'INVALID_ARGUMENT',
      message,
    });
    // Nothing of a key, nor of the text around it, is repeated.
    for (const secret of ['short-secret', KEY_A.slice(0, 6), KEY_B.slice(0, 6), 'sk-live', 'root', 'x y']) {
      expect((caught as ChatStoreError).message).not.toContain(secret);
    }
  });
});

describe('createKeyring', () => {
  test('matches whole keys only; admin implies read and write', async () => {
    const keyring = createKeyring(parseApiKeys(`${KEY_A}:read;${KEY_B}:admin`));
    expect(keyring.enabled).toBe(true);
    expect(await keyring.verify(KEY_A)).toStrictEqual({ keyIndex: 0, scopes: new Set(['read']) });
    expect(await keyring.verify(KEY_B)).toStrictEqual({ keyIndex: 1, scopes: new Set(['read', 'write', 'admin']) });
    expect(await keyring.verify(KEY_A.slice(1))).toBeUndefined();
    expect(await keyring.verify(`${KEY_A}a`)).toBeUndefined();
    expect(await keyring.verify('')).toBeUndefined();
    expect(createKeyring([]).enabled).toBe(false);
  });
});

test('loopback addresses and hosts', () => {
  for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.2']) {
    expect(isLoopbackAddress(address), address).toBe(true);
  }
  for (const address of [undefined, '', '10.0.0.1', '::ffff:10.0.0.1', '1127.0.0.1', 'fe80::1', '0.0.0.0']) {
    expect(isLoopbackAddress(address), String(address)).toBe(false);
  }
  expect(['localhost', '127.0.0.1', '::1', '[::1]'].map(isLoopbackHost)).toEqual([true, true, true, true]);
  expect(['0.0.0.0', '::', '192.168.1.2', 'example.com'].map(isLoopbackHost)).toEqual([false, false, false, false]);
});

describe('a server without keys', () => {
  test('serves loopback clients without asking for a key', async () => {
    const { call } = testApp();
    for (const remoteAddress of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      expect((await call('GET', '/v1/stats', { remoteAddress })).status).toBe(200);
    }
  });

  test('refuses other clients, and clients whose address the runtime did not tell', async () => {
    const { call } = testApp();
    const refused = envelope(
      'PERMISSION_DENIED',
      'this server has no API keys configured and serves loopback clients only; set CHATSTORE_API_KEYS to allow others',
    );
    for (const remoteAddress of ['10.1.2.3', '::ffff:192.168.0.1', null]) {
      const res = await call('GET', '/healthz', { remoteAddress });
      expect([res.status, res.body], String(remoteAddress)).toStrictEqual([403, refused]);
    }
    // X-Forwarded-For is never trusted
    const forwarded = await call('GET', '/v1/stats', {
      remoteAddress: '10.1.2.3',
      headers: { 'x-forwarded-for': '127.0.0.1' },
    });
    expect(forwarded.status).toBe(403);
  });
});

describe('a server without keys: the Host header (DNS rebinding)', () => {
  const refused = envelope(
    'PERMISSION_DENIED',
    'this server has no API keys configured and serves requests for a loopback host name only (Host: localhost, 127.0.0.1 or [::1], with any port); set CHATSTORE_API_KEYS to serve other host names',
  );

  test('loopback host names are served, with or without a port, in any case', async () => {
    const { call } = testApp();
    for (const host of [
      'localhost',
      'LocalHost:8080',
      '127.0.0.1',
      '127.0.0.1:80',
      '127.8.9.10:65535',
      '[::1]',
      '[::1]:8080',
    ]) {
      expect((await call('GET', '/v1/stats', { headers: { host } })).status, host).toBe(200);
    }
  });

  test('any other host name is refused, even from a loopback socket: a rebinding page reads and writes nothing', async () => {
    const { call, store } = testApp();
    await store.append('c1', { role: 'user', content: 'private' });
    for (const host of [
      'attacker.example',
      'attacker.example:8080',
      'localhost.attacker.example',
      'localhost.',
      '127.0.0.1.nip.io',
      '127.0.0.256',
      '0.0.0.0:8080',
      '10.0.0.1',
      '[::2]',
      '::1',
      'localhost:http',
      'localhost:8080@attacker.example',
      '',
    ]) {
      const exported = await call('GET', '/v1/export', { headers: { host } });
      expect([exported.status, exported.body], JSON.stringify(host)).toStrictEqual([403, refused]);
      const appended = await call('POST', '/v1/conversations/c1/messages', {
        headers: { host },
        body: { role: 'user', content: 'injected' },
      });
      expect(appended.status, JSON.stringify(host)).toBe(403);
    }
    expect((await store.recent('c1')).map((m) => m.content)).toStrictEqual(['private']);
  });

  test('without a Host header the request URL names the host (in-process requests)', async () => {
    const { app } = testApp();
    const refusedUrl = await app.request(
      'http://attacker.example/v1/export',
      { headers: { 'x-request-id': REQUEST_ID } },
      { remoteAddress: '127.0.0.1' },
    );
    expect([refusedUrl.status, await refusedUrl.json()]).toStrictEqual([403, refused]);
    const local = await app.request('/v1/stats', {}, { remoteAddress: '127.0.0.1' });
    expect(local.status).toBe(200);
  });

  test('with keys the Host header is not checked: the key is the secret a rebinding page lacks', async () => {
    const { call } = testApp({ apiKeys: API_KEYS });
    for (const host of ['chat.example.com', 'attacker.example', '10.0.0.1:8080']) {
      expect((await call('GET', '/v1/stats', { headers: { host }, key: READ_KEY })).status, host).toBe(200);
      expect((await call('GET', '/v1/stats', { headers: { host } })).status, host).toBe(401);
    }
  });
});

describe('a server with keys', () => {
  const routes: [string, string, 'read' | 'write' | 'admin', unknown?][] = [
    ['GET', '/v1/conversations', 'read'],
    ['GET', '/v1/conversations/c1/messages/recent', 'read'],
    ['GET', '/v1/search?q=hi', 'read'],
    ['GET', '/v1/export', 'read'],
    ['GET', '/metrics', 'read'],
    ['POST', '/v1/conversations/c1/messages', 'write', { role: 'user', content: 'hi' }],
    ['PATCH', '/v1/conversations/c1', 'write', { title: 'x' }],
    ['POST', '/v1/erasures', 'admin', { subjectId: 'nobody' }],
    ['GET', '/admin/storage/stats', 'admin'],
    ['GET', '/admin/storage/conversations/c1', 'admin'],
    ['POST', '/admin/storage/retention', 'admin', { olderThanDays: 365, dryRun: true }],
  ];
  const keyScopes = {
    [READ_KEY]: ['read'],
    [WRITE_KEY]: ['write'],
    [READ_WRITE_KEY]: ['read', 'write'],
    [ADMIN_KEY]: ['read', 'write', 'admin'],
  };

  test.each(routes)(
    '%s %s needs %s: 401 without a valid key, 403 without the scope',
    async (method, path, scope, body) => {
      const { call, seed } = testApp({ apiKeys: API_KEYS });
      await seed('c1', 1);
      const missing = await call(method, path, { body });
      expect([missing.status, missing.body]).toStrictEqual([
        401,
        envelope('UNAUTHENTICATED', 'an API key is required (Authorization: Bearer <key>)'),
      ]);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="chatstore"');
      const wrong = await call(method, path, { body, key: `${ADMIN_KEY}x` });
      expect([wrong.status, wrong.body]).toStrictEqual([401, envelope('UNAUTHENTICATED', 'the API key is not valid')]);
      for (const [key, scopes] of Object.entries(keyScopes)) {
        const res = await call(method, path, { body, key });
        if (scopes.includes(scope)) expect(res.status, `${key} may`).toBeLessThan(300);
        else
          expect([res.status, res.body], `${key} may not`).toStrictEqual([
            403,
            envelope('PERMISSION_DENIED', `the API key lacks the ${scope} scope`),
          ]);
      }
    },
  );

  test('health, readiness and the documents stay public', async () => {
    const { call } = testApp({ apiKeys: API_KEYS });
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/docs']) {
      expect((await call('GET', path, { remoteAddress: '203.0.113.9' })).status, path).toBe(200);
    }
  });

  test('keys work from any address, as Bearer (any case) or X-Api-Key', async () => {
    const { call } = testApp({ apiKeys: API_KEYS });
    const remoteAddress = '203.0.113.9';
    expect((await call('GET', '/v1/stats', { key: READ_KEY, remoteAddress })).status).toBe(200);
    expect(
      (await call('GET', '/v1/stats', { headers: { authorization: `bearer ${READ_KEY}` }, remoteAddress })).status,
    ).toBe(200);
    expect((await call('GET', '/v1/stats', { headers: { 'x-api-key': READ_KEY }, remoteAddress })).status).toBe(200);
    expect((await call('GET', '/v1/stats', { headers: { authorization: `Basic ${READ_KEY}` } })).status).toBe(401);
  });

  test('X-Api-Key counts when Authorization carries another scheme; a Bearer token is what is checked', async () => {
    const { call } = testApp({ apiKeys: API_KEYS });
    const basic = { authorization: `Basic ${btoa('proxy-user:proxy-password')}` };
    const withKey = await call('GET', '/v1/stats', { headers: { ...basic, 'x-api-key': READ_KEY } });
    expect(withKey.status).toBe(200);
    const digest = await call('GET', '/v1/stats', {
      headers: { authorization: 'Digest username="u", response="r"', 'x-api-key': READ_KEY },
    });
    expect(digest.status).toBe(200);
    const basicOnly = await call('GET', '/v1/stats', { headers: basic });
    expect([basicOnly.status, basicOnly.body]).toStrictEqual([
      401,
      envelope('UNAUTHENTICATED', 'an API key is required (Authorization: Bearer <key>)'),
    ]);
    const wrongBearer = await call('GET', '/v1/stats', {
      headers: { authorization: `Bearer ${READ_KEY}-wrong`, 'x-api-key': READ_KEY },
    });
    expect([wrongBearer.status, wrongBearer.body]).toStrictEqual([
      401,
      envelope('UNAUTHENTICATED', 'the API key is not valid'),
    ]);
    const scoped = await call('POST', '/v1/erasures', {
      headers: { ...basic, 'x-api-key': READ_KEY },
      body: { subjectId: 'nobody' },
    });
    expect(scoped.status).toBe(403);
  });

  test('authentication comes before validation: no key, no 400', async () => {
    const { call } = testApp({ apiKeys: API_KEYS });
    const res = await call('POST', '/v1/conversations/c1/messages', { body: { role: 'robot' } });
    expect(res.status).toBe(401);
    const scoped = await call('POST', '/v1/conversations/c1/messages', { body: { role: 'robot' }, key: READ_KEY });
    expect(scoped.status).toBe(403);
  });

  test('logs name the key by position, never by value, and never carry content', async () => {
    const { call, logs } = testApp({ apiKeys: API_KEYS });
    await call('POST', '/v1/conversations/c1/messages', {
      body: { role: 'user', content: 'my secret diagnosis' },
      key: WRITE_KEY,
    });
    await call('GET', '/v1/conversations/c1/messages', { key: READ_KEY });
    await call('GET', '/v1/stats', { key: `${READ_KEY}-wrong` });
    expect(logs.map((entry) => entry.fields)).toStrictEqual([
      {
        requestId: REQUEST_ID,
        method: 'POST',
        route: '/v1/conversations/:conversationId/messages',
        status: 201,
        durationMs: expect.any(Number),
        key: 1,
      },
      {
        requestId: REQUEST_ID,
        method: 'GET',
        route: '/v1/conversations/:conversationId/messages',
        status: 200,
        durationMs: expect.any(Number),
        key: 0,
      },
      { requestId: REQUEST_ID, method: 'GET', route: '/v1/stats', status: 401, durationMs: expect.any(Number) },
    ]);
    const text = JSON.stringify(logs);
    for (const secret of [READ_KEY, WRITE_KEY, 'diagnosis', 'c1']) expect(text).not.toContain(secret);
  });
});
