/**
 * The request and response schemas of the admin endpoints (`routes/admin.ts`): storage statistics
 * with the tiers' and the archive's figures, the archive's listing, runs and restores, retention,
 * and one conversation's full record. Built like `schemas.ts`, whose shared parts they reuse.
 */
import { z } from '@hono/zod-openapi';
import { ConversationSchema, MessageSchema, PageSize, Participant, StatsSchema } from './schemas.js';

export const RouteLatencySchema = z.object({
  method: z.string(),
  route: z.string(),
  count: z.number().int().openapi({ description: 'requests since start' }),
  errors: z.number().int().openapi({ description: '4xx and 5xx responses since start' }),
  p50Ms: z.number().openapi({ description: 'milliseconds, over the route’s last 1,024 requests' }),
  p90Ms: z.number(),
  p99Ms: z.number(),
});

export const TierStatsSchema = z
  .object({
    tier: z.string().openapi({ description: '`l1`: the in-process tier; `l2`: the shared tier' }),
    coherence: z.string().openapi({
      description: 'how it hears of other instances’ writes: data-version, change-feed, single-writer, or shared (L2)',
    }),
    serving: z
      .boolean()
      .openapi({ description: 'false while its change feed or its server is down: every read then goes past it' }),
    conversations: z.number().int().nullable().openapi({ description: 'null where counting would cost a scan (L2)' }),
    messages: z.number().int().nullable(),
    maxActiveConversations: z.number().int().nullable(),
    maxMessagesPerConversation: z.number().int(),
    hits: z.number().int(),
    misses: z.number().int(),
    hitRatio: z.number(),
    fills: z.number().int(),
    evictions: z.number().int().nullable(),
    invalidations: z.number().int(),
    failures: z.number().int().openapi({ description: 'calls to the tier’s server that failed (L2)' }),
  })
  .openapi('TierStats');

export const ArchiveStatsSchema = z
  .object({
    directory: z.string(),
    compression: z.string().openapi({ description: 'gzip, brotli or none' }),
    archiveAfterDays: z.number().int(),
    conversations: z.number().int().openapi({ description: 'conversations in the archive' }),
    messages: z.number().int(),
    bytes: z.number().int().openapi({ description: 'bytes of their files' }),
    reads: z.number().int().openapi({ description: 'reads this process answered from archive files since start' }),
    restores: z.number().int().openapi({ description: 'conversations this process put back in the database' }),
    lastRun: z
      .object({ at: z.string(), archived: z.number().int(), skipped: z.number().int(), ms: z.number() })
      .optional()
      .openapi({ description: 'the last archiving run of this process (`at`: its cutoff)' }),
  })
  .openapi('ArchiveStats');

export const ArchivedConversationSchema = z
  .object({
    conversationId: z.string(),
    state: z.enum(['moving', 'archived', 'restoring']).openapi({
      description:
        '`moving` and `restoring` only while a move or a restore is under way (or was cut off: the next run finishes it)',
    }),
    file: z.string(),
    compression: z.string(),
    bytes: z.number().int(),
    sha256: z.string(),
    messages: z.number().int(),
    firstSeq: z.number().int().optional(),
    lastSeq: z.number().int().optional(),
    lastActivityAt: z.string(),
    archivedAt: z.string(),
  })
  .openapi('ArchivedConversation');

export const ArchiveListingSchema = z
  .object({
    archive: ArchiveStatsSchema,
    conversations: z.array(ArchivedConversationSchema),
    next: z.string().optional().openapi({ description: 'pass as `after` for the next page' }),
  })
  .openapi('ArchiveListing');

export const ArchiveListingQuery = z.object({
  after: z
    .string()
    .optional()
    .openapi({ param: { name: 'after', in: 'query' }, description: 'the previous page’s next' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ param: { name: 'limit', in: 'query' } }),
});

/** The cutoff of an archiving or a retention run, and its dry-run flag. */
function runCutoff(days: string, before: string, dryRun: string) {
  return {
    olderThanDays: z.number().int().min(0).optional().openapi({ description: days }),
    before: z.string().optional().openapi({ description: before }),
    dryRun: z.boolean().optional().openapi({ description: dryRun }),
  };
}

export const ArchiveRunRequestSchema = z
  .object({
    ...runCutoff(
      'no activity for this many days (default: the archive’s archiveAfterDays)',
      'instead of olderThanDays: no activity since this time',
      'only report which conversations would move',
    ),
    limit: z.number().int().min(1).optional(),
  })
  .openapi('ArchiveRunRequest');

export const ArchiveRunReportSchema = z
  .object({
    dryRun: z.boolean(),
    before: z.string(),
    archived: z.array(z.string()),
    skipped: z.array(z.object({ conversationId: z.string(), reason: z.string() })),
    messages: z.number().int(),
    bytes: z.number().int(),
    recovered: z.object({
      movesFinished: z.number().int(),
      movesUndone: z.number().int(),
      restoresFinished: z.number().int(),
      leftoverFiles: z.number().int(),
      unfinishedRuns: z.number().int(),
    }),
    ms: z.number(),
  })
  .openapi('ArchiveRunReport');

export const ArchiveRestoreSchema = z
  .object({ conversationId: z.string(), restored: z.boolean() })
  .openapi('ArchiveRestore');

export const CompactionReportSchema = z
  .object({
    rewritten: z.array(z.string()).openapi({ description: 'tables, partitions or files rewritten' }),
    skipped: z.array(z.string()).openapi({ description: 'what was not rewritten, each with why' }),
    ms: z.number(),
  })
  .openapi('CompactionReport');

export const RetentionRequestSchema = z
  .object(
    runCutoff(
      'delete messages created more than this many days ago',
      'or: created before this time',
      'only count what would be deleted',
    ),
  )
  .openapi('RetentionRequest');

export const RetentionReportSchema = z
  .object({
    before: z.string(),
    dryRun: z.boolean(),
    messagesDeleted: z.number().int(),
    partitionsDropped: z
      .array(z.string())
      .openapi({ description: 'PostgreSQL monthly partitions dropped whole (with dryRun: that would be)' }),
    archiveFilesRewritten: z.number().int(),
    ms: z.number(),
  })
  .openapi('RetentionReport');

export const StorageStatsSchema = z
  .object({
    backend: z.string(),
    store: z.string().optional().openapi({ description: 'the store URL, credentials redacted' }),
    counts: StatsSchema,
    storage: z
      .object({
        bytes: z.number().int().nullable().openapi({ description: 'on-disk size; null when the engine cannot tell' }),
      })
      .openapi({ description: 'what the data occupies' }),
    tiers: z
      .array(TierStatsSchema)
      .openapi({ description: 'the tiers in front of the engine, nearest first (docs/tiers.md); empty without tiers' }),
    archive: ArchiveStatsSchema.optional().openapi({ description: 'the archive’s figures, when the store has one' }),
    routes: z.array(RouteLatencySchema),
    uptimeSeconds: z.number(),
  })
  .openapi('StorageStats');

export const ConversationRecordSchema = z
  .object({
    conversation: ConversationSchema,
    participants: z.array(Participant),
    counts: StatsSchema,
    lastMessages: z.array(MessageSchema).openapi({ description: 'oldest first, soft-deleted ones included' }),
  })
  .openapi('ConversationRecord');

export const AdminConversationQuery = z.object({
  last: PageSize.optional().openapi({ description: 'how many of the last messages; default 20' }),
});
