/** /openapi.json is generated from the validating schemas and covers every route; /docs renders it offline. */
import { describe, expect, test } from 'vitest';
import { testApp } from './helpers.js';

/** The documents themselves, and a deprecated path kept for old clients (docs/http-api.md). */
const UNDOCUMENTED = new Set(['/openapi.json', '/docs', '/v1/messages/by-external-id/:externalId']);

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

  test('names every operation, once: the ChatStore method it is, else a verb phrase', async () => {
    const { call } = testApp();
    const document = (await call('GET', '/openapi.json')).body;
    const operationIds: Record<string, unknown> = {};
    for (const [path, item] of Object.entries<Record<string, { operationId?: unknown }>>(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        operationIds[`${method.toUpperCase()} ${path}`] = operation.operationId;
      }
    }
    expect(operationIds).toStrictEqual({
      'GET /healthz': 'health',
      'GET /readyz': 'ready',
      'GET /metrics': 'metrics',
      'GET /v1/conversations': 'listConversations',
      'POST /v1/conversations': 'createConversation',
      'GET /v1/conversations/{conversationId}': 'getConversation',
      'PATCH /v1/conversations/{conversationId}': 'updateConversation',
      'DELETE /v1/conversations/{conversationId}': 'deleteConversation',
      'GET /v1/conversations/{conversationId}/participants': 'listParticipants',
      'POST /v1/conversations/{conversationId}/participants': 'addParticipants',
      'DELETE /v1/conversations/{conversationId}/participants/{participantId}': 'removeParticipant',
      'POST /v1/conversations/{conversationId}/messages': 'append',
      'GET /v1/conversations/{conversationId}/messages': 'list',
      'GET /v1/conversations/{conversationId}/messages/recent': 'recent',
      'GET /v1/conversations/{conversationId}/messages/around': 'around',
      'GET /v1/conversations/{conversationId}/context': 'context',
      'GET /v1/messages-by-external-id/{externalId}': 'getByExternalId',
      'GET /v1/messages/{messageId}': 'get',
      'PATCH /v1/messages/{messageId}': 'edit',
      'DELETE /v1/messages/{messageId}': 'delete',
      'POST /v1/messages/{messageId}/status': 'updateStatus',
      'GET /v1/search': 'search',
      'GET /v1/stats': 'stats',
      'GET /v1/export': 'export',
      'POST /v1/erasures': 'eraseSubject',
      'POST /v1/conversations/{conversationId}/restore': 'restore',
      'POST /admin/storage/compact': 'compact',
      'GET /v1/subjects/{subjectId}/export': 'exportSubject',
      'GET /admin/storage/stats': 'storageStats',
      'GET /admin/storage/archive': 'listArchived',
      'POST /admin/storage/archive': 'archive',
      'POST /admin/storage/archive/{conversationId}/restore': 'restoreArchived',
      'POST /admin/storage/retention': 'applyRetention',
      'GET /admin/storage/conversations/{conversationId}': 'conversationRecord',
      'POST /admin/storage/migrate': 'startMigration',
      'GET /admin/storage/migrate': 'listMigrations',
      'GET /admin/storage/migrate/{runId}': 'getMigration',
      'GET /webhooks/whatsapp': 'verifyWhatsappWebhook',
      'POST /webhooks/whatsapp': 'whatsappWebhook',
      'POST /webhooks/twilio': 'twilioWebhook',
      'POST /webhooks/telegram': 'telegramWebhook',
    });
    const names = Object.values(operationIds);
    expect(names.filter((name) => typeof name !== 'string' || !/^[a-z][a-zA-Z]*$/.test(name))).toStrictEqual([]);
    expect(new Set(names).size).toBe(names.length);
  });

  test('says where the API is and what each operation needs: public ones an empty security', async () => {
    const { call } = testApp();
    const document = (await call('GET', '/openapi.json')).body;
    expect(document.servers).toStrictEqual([{ url: '/', description: 'the server this document was fetched from' }]);
    const publicOperations: string[] = [];
    const undeclared: string[] = [];
    for (const [path, item] of Object.entries<Record<string, { security?: unknown[] }>>(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const name = `${method.toUpperCase()} ${path}`;
        if (operation.security === undefined) undeclared.push(name);
        else if (operation.security.length === 0) publicOperations.push(name);
      }
    }
    expect(undeclared).toStrictEqual([]);
    expect(publicOperations.sort()).toStrictEqual([
      'GET /healthz',
      'GET /readyz',
      'GET /webhooks/whatsapp',
      'POST /webhooks/telegram',
      'POST /webhooks/twilio',
      'POST /webhooks/whatsapp',
    ]);
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
