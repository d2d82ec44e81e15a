/** /healthz, /readyz (which asks the engine), /metrics (Prometheus), and the admin endpoints. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, onTestFinished, test } from 'vitest';
import { archiveTier } from '../../src/backends/archive/index.js';
import { memoryBackend } from '../../src/backends/memory/index.js';
import { tailCache } from '../../src/backends/tiers/tail-cache.js';
import { MigrationJobs } from '../../src/migrate/jobs.js';
import { createApp } from '../../src/server/app.js';
import { ChatStore } from '../../src/store.js';
import { envelope, T0, testApp } from './helpers.js';

describe('health', () => {
  test('/healthz answers while the process lives', async () => {
    const { call } = testApp();
    expect(await call('GET', '/healthz').then((r) => [r.status, r.body])).toStrictEqual([200, { status: 'ok' }]);
  });

  test('/readyz asks the engine: 200 when it answers, 503 when it is closed', async () => {
    const { call, store } = testApp();
    expect(await call('GET', '/readyz').then((r) => [r.status, r.body])).toStrictEqual([
      200,
      { status: 'ok', backend: 'memory' },
    ]);
    await store.close();
    expect(await call('GET', '/readyz').then((r) => [r.status, r.body])).toStrictEqual([
      503,
      { status: 'unavailable', backend: 'memory', reason: 'UNAVAILABLE' },
    ]);
  });

  test('/readyz gives up on an engine that does not answer in time', async () => {
    const hanging = { ...memoryBackend(), getConversation: () => new Promise<never>(() => {}) };
    const { call } = testApp({ readinessTimeoutMs: 20 }, { backend: hanging });
    expect(await call('GET', '/readyz').then((r) => [r.status, r.body])).toStrictEqual([
      503,
      { status: 'unavailable', backend: 'memory', reason: 'no answer within 20 ms' },
    ]);
  });

  test('/readyz (public) never shows a credential from an engine failure', async () => {
    const failing = {
      ...memoryBackend(),
      getConversation: () =>
        Promise.reject(new Error('connect ECONNREFUSED redis://:hunter2@cache:6379/0?password=x2')),
    };
    const { call } = testApp({}, { backend: failing });
    expect(await call('GET', '/readyz').then((r) => [r.status, r.body])).toStrictEqual([
      503,
      {
        status: 'unavailable',
        backend: 'memory',
        reason: 'connect ECONNREFUSED redis://:***@cache:6379/0?password=***',
      },
    ]);
  });

  test('/readyz is 503 while draining, so balancers stop sending', async () => {
    let draining = false;
    const { call } = testApp({ draining: () => draining });
    expect((await call('GET', '/readyz')).status).toBe(200);
    draining = true;
    expect(await call('GET', '/readyz').then((r) => [r.status, r.body])).toStrictEqual([
      503,
      { status: 'draining', backend: 'memory' },
    ]);
    expect((await call('GET', '/healthz')).status).toBe(200);
  });
});

describe('/metrics', () => {
  test('exposes request latency per route, appends, reads, errors by code and store latency', async () => {
    const { call } = testApp();
    await call('POST', '/v1/conversations/c1/messages', { body: { id: 'a', role: 'user', content: 'x' } });
    await call('POST', '/v1/conversations/c1/messages', { body: { id: 'a', role: 'user', content: 'x' } });
    await call('GET', '/v1/conversations/c1/messages/recent');
    await call('GET', '/v1/messages/nope');
    await call('GET', '/v1/nope');
    const res = await call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const lines = res.text.split('\n');
    for (const line of [
      'chatstore_http_request_duration_seconds_count{method="POST",route="/v1/conversations/:conversationId/messages",status="201"} 1',
      'chatstore_http_request_duration_seconds_count{method="POST",route="/v1/conversations/:conversationId/messages",status="200"} 1',
      'chatstore_http_request_duration_seconds_count{method="GET",route="/v1/messages/:messageId",status="404"} 1',
      'chatstore_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1',
      'chatstore_appended_messages_total{result="created"} 1',
      'chatstore_appended_messages_total{result="duplicate"} 1',
      'chatstore_reads_total{operation="recent"} 1',
      'chatstore_reads_total{operation="get"} 1',
      'chatstore_http_errors_total{code="NOT_FOUND"} 2',
      'chatstore_store_operation_duration_seconds_count{operation="append",outcome="ok"} 2',
      'chatstore_store_operation_duration_seconds_count{operation="recent",outcome="ok"} 1',
    ]) {
      expect(lines, line).toContain(line);
    }
  });

  test('each app has its own registry unless one is given', async () => {
    const first = testApp();
    const second = testApp();
    await first.call('GET', '/healthz');
    const count = (text: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith('chatstore_http_request_duration_seconds_count{method="GET",route="/healthz"'));
    expect(count((await first.call('GET', '/metrics')).text)).toMatch(/ 1$/);
    expect(count((await second.call('GET', '/metrics')).text)).toBeUndefined();

    const registry = new Registry();
    const store = new ChatStore(memoryBackend());
    createApp(store, { registry });
    expect((await registry.getMetricsAsJSON()).map((m) => m.name)).toContain('chatstore_appended_messages_total');
    await store.close();
  });
});

describe('admin', () => {
  test('GET /admin/storage/stats: counts, storage size, per-route latency, uptime', async () => {
    const { call, seed } = testApp({ storeUrl: 'postgres://app:hunter2@db/chat', storageBytes: async () => 123_456 });
    await seed('c1', 3);
    await call('GET', '/v1/conversations/c1/messages/recent');
    await call('GET', '/v1/conversations/c1/messages/recent');
    await call('GET', '/v1/messages/nope');
    const res = await call('GET', '/admin/storage/stats');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({
      backend: 'memory',
      store: 'postgres://app:***@db/chat',
      counts: {
        total: 3,
        incoming: 2,
        outgoing: 1,
        withMedia: 0,
        commands: 0,
        adminCommands: 0,
        failed: 0,
        deleted: 0,
        byRole: { user: 2, assistant: 1, system: 0, tool: 0 },
        conversations: 1,
        byChannel: {},
      },
      storage: { bytes: 123_456 },
      tiers: [],
      routes: [
        {
          method: 'GET',
          route: '/v1/conversations/:conversationId/messages/recent',
          count: 2,
          errors: 0,
          p50Ms: expect.any(Number),
          p90Ms: expect.any(Number),
          p99Ms: expect.any(Number),
        },
        {
          method: 'GET',
          route: '/v1/messages/:messageId',
          count: 1,
          errors: 1,
          p50Ms: expect.any(Number),
          p90Ms: expect.any(Number),
          p99Ms: expect.any(Number),
        },
      ],
      uptimeSeconds: expect.any(Number),
    });
  });

  test('GET /admin/storage/stats and /metrics show each tier: what it holds, hits, misses, whether it serves', async () => {
    const tiered = await tailCache(memoryBackend(), { maxActiveConversations: 10, maxMessagesPerConversation: 5 });
    const { call, seed } = testApp({}, { backend: tiered });
    await seed('c1', 3);
    await call('GET', '/v1/conversations/c1/messages/recent');
    await call('GET', '/v1/conversations/c1/messages/recent');
    const res = await call('GET', '/admin/storage/stats');
    expect(res.body.backend).toBe('memory+l1');
    expect(res.body.tiers).toStrictEqual([
      {
        tier: 'l1',
        coherence: 'single-writer',
        serving: true,
        conversations: 1,
        messages: 3,
        maxActiveConversations: 10,
        maxMessagesPerConversation: 5,
        hits: 1,
        misses: 1,
        hitRatio: 0.5,
        fills: 1,
        evictions: 0,
        invalidations: 0,
        failures: 0,
      },
    ]);
    const metrics = await call('GET', '/metrics');
    expect(metrics.text).toContain('chatstore_tier_hits_total{tier="l1"} 1');
    expect(metrics.text).toContain('chatstore_tier_messages{tier="l1"} 3');
    expect(metrics.text).toContain('chatstore_tier_serving{tier="l1"} 1');
  });

  test('/admin/storage/archive: GET lists the archive, POST runs archiving (dry run first), restore puts one back', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'chatstore-http-archive-'));
    onTestFinished(() => rmSync(directory, { recursive: true, force: true }));
    const { call, seed } = testApp({}, { backend: await archiveTier(memoryBackend(), { directory }) });
    await seed('c1', 3);
    await seed('c2', 1);
    const dry = await call('POST', '/admin/storage/archive', {
      body: { before: '2100-01-01T00:00:00Z', dryRun: true },
    });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, archived: ['c2', 'c1'], messages: 4, bytes: 0 });
    expect((await call('GET', '/admin/storage/archive')).body).toMatchObject({ conversations: [] });

    const run = await call('POST', '/admin/storage/archive', { body: { before: '2100-01-01T00:00:00Z' } });
    expect(run.body).toMatchObject({ dryRun: false, archived: ['c2', 'c1'], skipped: [], messages: 4 });
    const listing = await call('GET', '/admin/storage/archive?limit=1');
    expect(listing.body).toMatchObject({
      archive: { compression: 'gzip', archiveAfterDays: 30, conversations: 2, messages: 4 },
      conversations: [
        { conversationId: 'c1', state: 'archived', compression: 'gzip', messages: 3, firstSeq: 1, lastSeq: 3 },
      ],
      next: 'c1',
    });
    expect(
      (await call('GET', '/admin/storage/archive?after=c1')).body.conversations.map(
        (c: { conversationId: string }) => c.conversationId,
      ),
    ).toEqual(['c2']);
    // Reads answer from the archive; the stats show it.
    expect((await call('GET', '/v1/conversations/c1/messages/recent')).body.messages).toHaveLength(3);
    expect((await call('GET', '/admin/storage/stats')).body.archive).toMatchObject({ conversations: 2, reads: 1 });
    const metrics = await call('GET', '/metrics');
    expect(metrics.text).toContain('chatstore_archive_conversations 2');
    expect(metrics.text).toContain('chatstore_archive_messages 4');

    expect((await call('POST', '/admin/storage/archive/c1/restore')).body).toStrictEqual({
      conversationId: 'c1',
      restored: true,
    });
    expect((await call('POST', '/admin/storage/archive/c1/restore')).body).toStrictEqual({
      conversationId: 'c1',
      restored: false,
    });
    expect((await call('GET', '/admin/storage/archive')).body.archive.conversations).toBe(1);
    expect((await call('POST', '/admin/storage/archive', { body: { olderThanDays: -1 } })).status).toBe(400);
  });

  test('POST /admin/storage/retention deletes what is older than the cutoff (a dry run only counts)', async () => {
    const { call, store } = testApp();
    await store.append('c1', [
      { role: 'user', content: 'old', createdAt: '2025-01-01T00:00:00Z' },
      { role: 'user', content: 'new' },
    ]);
    const dry = await call('POST', '/admin/storage/retention', {
      body: { before: '2025-06-01T00:00:00Z', dryRun: true },
    });
    expect(dry.body).toStrictEqual({
      before: '2025-06-01T00:00:00.000Z',
      dryRun: true,
      messagesDeleted: 1,
      partitionsDropped: [],
      archiveFilesRewritten: 0,
      ms: expect.any(Number),
    });
    const run = await call('POST', '/admin/storage/retention', { body: { olderThanDays: 30 } });
    expect(run.body).toMatchObject({ dryRun: false, messagesDeleted: 1 });
    expect((await store.recent('c1')).map((m) => m.content)).toEqual(['new']);
    expect((await call('POST', '/admin/storage/retention', { body: {} })).status).toBe(400);
  });

  test('POST /admin/storage/migrate starts a run in the background; GET follows it to its report; deleteSource deletes the file it moved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatstore-migrate-http-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'chat_logs.json');
    writeFileSync(
      file,
      JSON.stringify({
        '+15550001': [
          { role: 'user', content: '¿Hola? 👋', timestamp: 1_700_000_000_000 },
          { role: 'assistant', content: 'Hola', timestamp: 1_700_000_001_000 },
        ],
        '+15550002': { messages: [{ isUser: true, message: 'hi', timestamp: 1_700_000_002 }] },
      }),
    );
    const { call, store } = testApp((store) => ({ migrations: new MigrationJobs(store, join(dir, 'runs')) }));
    const started = await call('POST', '/admin/storage/migrate', { body: { from: file, deleteSource: true } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ runId: expect.any(String), state: 'running' });
    const runId = started.body.runId as string;
    let job = (await call('GET', `/admin/storage/migrate/${runId}`)).body;
    while (job.state === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 10));
      job = (await call('GET', `/admin/storage/migrate/${runId}`)).body;
    }
    expect(job).toMatchObject({
      state: 'done',
      report: {
        runId,
        layout: 'json-file',
        customers: { before: 2, after: 2 },
        messages: { before: 3, after: 3, stored: 3 },
        verification: { ok: true },
        sourceDeletion: { conversations: 2, records: 3, kept: 0 },
        complete: true,
      },
    });
    expect(existsSync(file)).toBe(false);
    expect((await store.recent('+15550001')).map((m) => m.content)).toEqual(['¿Hola? 👋', 'Hola']);
    expect((await call('GET', '/admin/storage/migrate')).body).toMatchObject({ jobs: [{ runId, state: 'done' }] });
    expect((await call('GET', '/admin/storage/migrate/nope')).status).toBe(404);
    const missing = await call('POST', '/admin/storage/migrate', { body: { from: join(dir, 'absent.json') } });
    expect([missing.status, missing.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect((await call('POST', '/admin/storage/migrate', { body: { from: file, layout: 'csv' } })).status).toBe(400);
  });

  test('a server without migrations answers the migration endpoints 501 UNSUPPORTED', async () => {
    const { call } = testApp();
    const res = await call('POST', '/admin/storage/migrate', { body: { from: 'x.json' } });
    expect([res.status, res.body.error.code]).toEqual([501, 'UNSUPPORTED']);
    expect((await call('GET', '/admin/storage/migrate')).status).toBe(501);
  });

  test('a store without archive answers the archive endpoints 501 UNSUPPORTED', async () => {
    const { call } = testApp();
    const res = await call('GET', '/admin/storage/archive');
    expect(res.status).toBe(501);
    expect(res.body.error.code).toBe('UNSUPPORTED');
    expect((await call('POST', '/admin/storage/archive', { body: {} })).status).toBe(501);
    expect((await call('GET', '/admin/storage/stats')).body.archive).toBeUndefined();
  });

  test('GET /admin/storage/stats shows the store URL with the one redaction rule: no password, no secret parameter', async () => {
    const storeUrl =
      'postgres://app:p@ss/w0rd@db:5432/chat?sslpassword=s3cr3t&sslmode=require&password=hunter2&sslkey=/etc/chat/key.pem';
    const { call } = testApp({ storeUrl });
    const res = await call('GET', '/admin/storage/stats');
    expect(res.body.store).toBe(
      'postgres://app:***@db:5432/chat?sslpassword=***&sslmode=require&password=***&sslkey=***',
    );
    for (const secret of ['p@ss', 'w0rd', 's3cr3t', 'hunter2', 'key.pem']) expect(res.text).not.toContain(secret);
  });

  test('storage size is null when the edge cannot tell, or fails to', async () => {
    expect((await testApp().call('GET', '/admin/storage/stats')).body.storage).toStrictEqual({ bytes: null });
    const failing = testApp({ storageBytes: () => Promise.reject(new Error('EACCES')) });
    expect((await failing.call('GET', '/admin/storage/stats')).body.storage).toStrictEqual({ bytes: null });
  });

  test('GET /admin/storage/conversations/:id: the full record, deleted messages included', async () => {
    const { call, store, seed } = testApp();
    await store.createConversation('+1555', {
      metadata: { plan: 'pro' },
      participants: [{ id: '+1555', name: 'Ana' }],
    });
    const messages = await seed('+1555', 30);
    await store.delete('m30');
    const res = await call('GET', '/admin/storage/conversations/%2B1555?last=3');
    expect(res.status).toBe(200);
    const participants = [{ id: '+1555', kind: 'human', name: 'Ana', joinedAt: T0 }];
    expect(res.body).toStrictEqual({
      conversation: {
        id: '+1555',
        type: 'private',
        participants,
        metadata: { plan: 'pro' },
        createdAt: T0,
        updatedAt: T0,
        lastSeq: 30,
        messageCount: 30,
        lastMessageAt: T0,
      },
      participants,
      counts: expect.objectContaining({ total: 29, deleted: 1, conversations: 1 }),
      lastMessages: [messages[27], messages[28], { ...messages[29], deletedAt: T0 }],
    });
    expect((await call('GET', '/admin/storage/conversations/%2B1555')).body.lastMessages).toHaveLength(20);
  });

  test('GET /admin/storage/conversations/:id: 404 for an unknown conversation', async () => {
    const { call } = testApp();
    const res = await call('GET', '/admin/storage/conversations/nope');
    expect([res.status, res.body]).toStrictEqual([404, envelope('NOT_FOUND', 'conversation nope not found')]);
  });
});
