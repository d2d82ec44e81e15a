/**
 * The admin endpoints of the old system, kept at their paths: storage statistics, the archive
 * (list, run, restore), retention and the full record of one customer's conversation.
 */
import { ChatStoreError, redact } from '../../errors.js';
import {
  AdminConversationQuery,
  ArchiveListingQuery,
  ArchiveListingSchema,
  ArchiveRestoreSchema,
  ArchiveRunReportSchema,
  ArchiveRunRequestSchema,
  CompactionReportSchema,
  ConversationRecordSchema,
  RetentionReportSchema,
  RetentionRequestSchema,
  StorageStatsSchema,
} from '../admin-schemas.js';
import { ConversationParams } from '../schemas.js';
import { type App, access, errors, json, jsonBody, type RouteDeps, route } from './route-kit.js';

/** Facts only the runtime edge knows. */
export interface AdminOptions {
  /** The engine's on-disk size in bytes, when the edge can tell (a SQLite file, say). */
  storageBytes?: () => Promise<number | undefined>;
  /** The store URL, shown with credentials redacted. */
  storeUrl?: string;
}

const DEFAULT_LAST = 20;

export function registerAdminRoutes(app: App, deps: RouteDeps, options: AdminOptions): void {
  const { store, metrics, keyring } = deps;
  const admin = access(keyring, 'admin');
  const startedAt = Date.now();

  app.openapi(
    route({
      ...admin,
      method: 'get',
      path: '/admin/storage/stats',
      operationId: 'storageStats',
      tags: ['admin'],
      summary: 'Storage statistics',
      description:
        'Message counts, storage size, the figures of each tier in front of the engine, and request count and latency per route.',
      responses: { 200: json(StorageStatsSchema, 'the statistics'), ...errors() },
    }),
    async (c) => {
      const [counts, bytes, routes, archive] = await Promise.all([
        metrics.timeStore('stats', () => store.stats()),
        options.storageBytes?.().catch(() => undefined),
        metrics.routeLatencies(),
        store.archiveStats(),
      ]);
      return c.json(
        {
          backend: store.backendName,
          ...(options.storeUrl === undefined ? {} : { store: redact(options.storeUrl) }),
          counts,
          storage: { bytes: bytes ?? null },
          tiers: store.tierStats(),
          ...(archive === undefined ? {} : { archive }),
          routes,
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        },
        200,
      );
    },
  );

  app.openapi(
    route({
      ...admin,
      method: 'get',
      path: '/admin/storage/archive',
      operationId: 'listArchived',
      tags: ['admin'],
      summary: 'The archive',
      description:
        'The archive’s figures and its conversations in id order, a page at a time (docs/archive.md). 501 when the store has no archive.',
      request: { query: ArchiveListingQuery },
      responses: { 200: json(ArchiveListingSchema, 'figures and a page of archived conversations'), ...errors(501) },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const page = await metrics.timeStore('listArchived', () => store.listArchived(query));
      const archive = await store.archiveStats();
      return c.json({ archive: archive as NonNullable<typeof archive>, ...page }, 200);
    },
  );

  app.openapi(
    route({
      ...admin,
      method: 'post',
      path: '/admin/storage/archive',
      operationId: 'archive',
      tags: ['admin'],
      summary: 'Run archiving',
      description:
        'Moves conversations with no activity for `olderThanDays` (default: the archive’s archiveAfterDays) or since `before` to the archive, after finishing what an interrupted run left; with `dryRun`, only reports which would move. Answers when the run is over.',
      request: { body: jsonBody(ArchiveRunRequestSchema) },
      responses: { 200: json(ArchiveRunReportSchema, 'what the run did'), ...errors(415, 501) },
    }),
    async (c) => {
      const request = c.req.valid('json');
      const report = await metrics.timeStore('archive', () => store.archive(request));
      return c.json(report, 200);
    },
  );

  app.openapi(
    route({
      ...admin,
      method: 'post',
      path: '/admin/storage/archive/{conversationId}/restore',
      operationId: 'restoreArchived',
      tags: ['admin'],
      summary: 'Restore an archived conversation',
      description:
        'Puts the conversation back in the database (a write to it does so by itself). `restored: false` when it was not archived.',
      request: { params: ConversationParams },
      responses: { 200: json(ArchiveRestoreSchema, 'whether it was restored'), ...errors(501) },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const restored = await metrics.timeStore('restoreArchived', () => store.restoreArchived(conversationId));
      return c.json({ conversationId, restored }, 200);
    },
  );

  app.openapi(
    route({
      ...admin,
      method: 'post',
      path: '/admin/storage/retention',
      operationId: 'applyRetention',
      tags: ['admin'],
      summary: 'Run retention',
      description:
        'Hard-deletes every message created more than `olderThanDays` ago (or before `before`), in the database and in the archive; conversations stay. On PostgreSQL with monthly partitions, whole months go as dropped partitions. With `dryRun`, only counts.',
      request: { body: jsonBody(RetentionRequestSchema) },
      responses: { 200: json(RetentionReportSchema, 'what the run deleted'), ...errors(415) },
    }),
    async (c) => {
      const request = c.req.valid('json');
      const report = await metrics.timeStore('applyRetention', () => store.applyRetention(request));
      return c.json(report, 200);
    },
  );

  app.openapi(
    route({
      ...admin,
      method: 'post',
      path: '/admin/storage/compact',
      operationId: 'compact',
      tags: ['admin'],
      summary: 'Compact the storage',
      description:
        'Rewrites all of the engine’s storage so that the bytes of data removed earlier (hard deletes, erasures without `compact`) leave its files now, as `chatstore compact` does; engines that keep no removed bytes (memory, SQLite) answer an empty report. Costly: PostgreSQL and MySQL rewrite whole tables under a lock (docs/backends.md, "Erasure on disk").',
      responses: { 200: json(CompactionReportSchema, 'what was rewritten'), ...errors() },
    }),
    async (c) => c.json(await metrics.timeStore('compact', () => store.compact()), 200),
  );

  app.openapi(
    route({
      ...admin,
      method: 'get',
      path: '/admin/storage/conversations/{conversationId}',
      operationId: 'conversationRecord',
      tags: ['admin'],
      summary: 'The full record of one conversation',
      description:
        'The conversation, its participants, its counts and its last messages (soft-deleted ones included, oldest first).',
      request: { params: ConversationParams, query: AdminConversationQuery },
      responses: { 200: json(ConversationRecordSchema, 'the record'), ...errors(404) },
    }),
    async (c) => {
      const { conversationId } = c.req.valid('param');
      const last = c.req.valid('query').last ?? DEFAULT_LAST;
      const [conversation, counts, page] = await Promise.all([
        metrics.timeStore('getConversation', () => store.getConversation(conversationId)),
        metrics.timeStore('stats', () => store.stats(conversationId)),
        metrics.timeStore('list', () =>
          store.list(conversationId, { order: 'desc', limit: last, includeDeleted: true }),
        ),
      ]);
      if (conversation === undefined) throw new ChatStoreError('NOT_FOUND', `conversation ${conversationId} not found`);
      return c.json(
        { conversation, participants: conversation.participants, counts, lastMessages: page.messages.reverse() },
        200,
      );
    },
  );
}
