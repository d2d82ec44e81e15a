/**
 * The schemas of the migration endpoints (`routes/migrate.ts`): the request that starts a run, and
 * a run as `GET` shows it, with its progress and its report (the same report `chatstore migrate`
 * writes; docs/migrate.md).
 */
import { z } from '@hono/zod-openapi';
import { LAYOUTS } from '../migrate/source.js';

export const MigrationRequestSchema = z
  .object({
    from: z.string().min(1).openapi({
      description:
        "a file on the server (chat_logs.json, a KV export, a libSQL file), a redis:// URL (sorted-index, langchain-redis), a postgres:// URL (message-log, langchain-postgres, mastra-postgres) or a live KV namespace, cloudflare-kv://<account>/<namespace> (a KV layout named; the token in the server's CLOUDFLARE_API_TOKEN)",
    }),
    layout: z.enum(LAYOUTS).optional().openapi({ description: 'default: detected from the file' }),
    dryRun: z.boolean().optional().openapi({ description: 'read and convert everything, write nothing' }),
    resume: z
      .union([z.string(), z.boolean()])
      .optional()
      .openapi({ description: 'a run id to go on with, or true for the newest unfinished run from `from`' }),
    verify: z.boolean().optional().openapi({ description: 'then read both sides again and compare each conversation' }),
    deleteSource: z.boolean().optional().openapi({
      description:
        'after a complete, verified run, delete from the source each conversation that still matches the store (implies verify; not with dryRun or since)',
    }),
    since: z.string().optional().openapi({ description: 'only messages at or after this ISO time' }),
    normalizePhone: z.boolean().optional().openapi({ description: 'conversation ids as E.164 phone numbers' }),
    channel: z
      .string()
      .optional()
      .openapi({ description: 'the channel of the conversations the run creates', example: 'whatsapp' }),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: 'messages per append (default 500)' }),
  })
  .openapi('MigrationRequest');

const SourceErrorSchema = z.object({ source: z.string(), reason: z.string() });

export const MigrationProgressSchema = z
  .object({
    runId: z.string(),
    conversations: z.number().int(),
    messages: z.number().int(),
    errors: z.number().int(),
    read: z
      .object({ done: z.number(), total: z.number() })
      .nullable()
      .openapi({ description: 'bytes of the source file read, of its size; null for a Redis source' }),
    elapsedMs: z.number(),
  })
  .openapi('MigrationProgress');

export const MigrationReportSchema = z
  .object({
    runId: z.string(),
    from: z.string(),
    layout: z.enum(LAYOUTS),
    dryRun: z.boolean(),
    resumed: z.boolean(),
    startedAt: z.string(),
    finishedAt: z.string(),
    durationMs: z.number(),
    customers: z.object({ before: z.number().int(), after: z.number().int() }),
    messages: z.object({
      before: z.number().int(),
      after: z.number().int(),
      stored: z.number().int(),
      alreadyStored: z.number().int(),
      duplicatesInSource: z.number().int(),
      beforeSince: z.number().int(),
      failed: z.number().int(),
    }),
    successRate: z.number(),
    messagesPerSecond: z.number(),
    peakRssBytes: z.number(),
    errors: z.array(SourceErrorSchema).openapi({ description: 'the first 1,000' }),
    errorCount: z.number().int(),
    verification: z
      .object({
        ok: z.boolean(),
        conversations: z.number().int(),
        messages: z.number().int(),
        differences: z.array(
          z.object({
            conversationId: z.string(),
            source: z.number().int(),
            store: z.number().int(),
            reason: z.string(),
          }),
        ),
      })
      .optional(),
    sourceDeletion: z
      .object({
        conversations: z.number().int(),
        records: z.number().int(),
        kept: z.number().int(),
        skipped: z.string().optional(),
      })
      .optional()
      .openapi({ description: 'what deleteSource deleted from the source, when it was asked' }),
    complete: z
      .boolean()
      .openapi({ description: 'everything arrived: no error, and the verification (when asked) passed' }),
    files: z.object({ json: z.string(), markdown: z.string() }),
  })
  .openapi('MigrationReport');

export const MigrationJobSchema = z
  .object({
    runId: z.string(),
    state: z.enum(['running', 'done', 'failed']),
    startedAt: z.string(),
    progress: MigrationProgressSchema.optional(),
    report: MigrationReportSchema.optional(),
    error: z
      .object({ code: z.string(), message: z.string() })
      .optional()
      .openapi({ description: 'why a failed run stopped; resume it once the cause is fixed' }),
  })
  .openapi('MigrationJob');

export const MigrationJobListSchema = z.object({ jobs: z.array(MigrationJobSchema) }).openapi('MigrationJobList');

export const RunParams = z.object({ runId: z.string().openapi({ param: { name: 'runId', in: 'path' } }) });
