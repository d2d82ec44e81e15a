/** /openapi.json is generated from the validating schemas and covers every route; /docs renders it offline. */
import { describe, expect, test } from 'vitest';
import { testApp } from './helpers.js';

const UNDOCUMENTED = new Set(['/openapi.json', '/docs']);

const documentedRoutes = (app: ReturnType<typeof testApp>['app']) =>
  app.routes
    .filter((route) => route.method !== 'ALL' && !UNDOCUMENTED.has(route.path))
    .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`);

describe('/openapi.json', () => {
  test('is OpenAPI 3.1 and documents every route the app serves, with its scope', async () => {
    const { app, call } = testApp();
    const res = await call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const document = res.body;
    expect(document.openapi).toBe('3.1.0');
    const operations: string[] = [];
    const scopes: Record<string, string[]> = {};
    for (const [path, item] of Object.entries<Record<string, { security?: Record<string, string[]>[] }>>(
      document.paths,
    )) {
      for (const [method, operation] of Object.entries(item)) {
        const name = `${method.toUpperCase()} ${path}`;
        operations.push(name);
        scopes[name] = [...new Set((operation.security ?? []).flatMap((s) => Object.values(s).flat()))];
      }
    }
    expect(operations.sort()).toStrictEqual([...new Set(documentedRoutes(app))].sort());
    expect(scopes).toMatchObject({
      'GET /healthz': [],
      'GET /readyz': [],
      'GET /metrics': ['read'],
      'POST /v1/conversations/{conversationId}/messages': ['write'],
      'GET /v1/conversations/{conversationId}/messages': ['read'],
      'POST /v1/erasures': ['admin'],
      'GET /admin/storage/stats': ['admin'],
      'GET /admin/storage/conversations/{conversationId}': ['admin'],
      'GET /admin/storage/archive': ['admin'],
      'POST /admin/storage/archive': ['admin'],
      'POST /admin/storage/archive/{conversationId}/restore': ['admin'],
      'POST /admin/storage/retention': ['admin'],
      'POST /admin/storage/compact': ['admin'],
      'POST /v1/conversations/{conversationId}/restore': ['admin'],
    });
    expect(Object.keys(document.components.securitySchemes).sort()).toStrictEqual(['apiKeyHeader', 'bearerAuth']);
  });

  test('comes from the schemas that validate: unknown fields are refused in both', async () => {
    const { call } = testApp();
    const document = (await call('GET', '/openapi.json')).body;
    const append = document.paths['/v1/conversations/{conversationId}/messages'].post;
    expect(append.requestBody.content['application/json'].schema).toStrictEqual({
      anyOf: [{ $ref: '#/components/schemas/AppendBatch' }, { $ref: '#/components/schemas/NewMessage' }],
    });
    const newMessage = document.components.schemas.NewMessage;
    expect(newMessage.additionalProperties).toBe(false);
    expect(newMessage.properties.role.enum).toStrictEqual(['user', 'assistant', 'system', 'tool']);
    expect(append.parameters).toContainEqual(
      expect.objectContaining({ name: 'idempotency-key', in: 'header', required: false }),
    );
    expect(Object.keys(append.responses).sort()).toStrictEqual([
      '200',
      '201',
      '400',
      '401',
      '403',
      '409',
      '413',
      '415',
      '422',
      '503',
    ]);
    const refused = await call('POST', '/v1/conversations/c1/messages', { body: { role: 'user', colour: 'red' } });
    expect([refused.status, refused.body.error.path]).toStrictEqual([400, 'colour']);
  });
});

test('/docs is one self-contained HTML page listing every operation', async () => {
  const { app, call } = testApp();
  const res = await call('GET', '/docs');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/html; charset=UTF-8');
  for (const route of new Set(documentedRoutes(app))) {
    const [method, path] = route.split(' ') as [string, string];
    expect(res.text, route).toContain(
      `<span class="method ${method.toLowerCase()}">${method.toLowerCase()}</span><code>${path}</code>`,
    );
  }
  expect(res.text).toContain('scope: admin');
  expect(res.text).not.toMatch(/<script|<link|src=|https?:\/\//i);
});
