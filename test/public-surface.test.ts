/**
 * Pins the public surface: every subpath in package.json `exports` and every name (value or type)
 * each one exports. Moving files around must not drop or add an export unnoticed; a deliberate change
 * updates the list below in the same commit.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, { types: string; default: string }>;
  bin: Record<string, string>;
};

/** `./dist/backends/sqlite/index.js` → the TypeScript source it is built from. */
function sourceOf(built: string): string {
  return join(root, built.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
}

const SURFACE: Record<string, string[]> = {
  '.': [
    'AppendOptions',
    'AppendPlan',
    'AppendRequest',
    'AppendResult',
    'applyMergePatch',
    'approximateTokens',
    'ArchivedConversationSummary',
    'ArchivedPage',
    'ArchiveOperations',
    'ArchiveOptions',
    'ArchiveRecovery',
    'ArchiveRunReport',
    'ArchiveRunRequest',
    'ArchiveStats',
    'AroundOptions',
    'Backend',
    'BackendSearchHit',
    'ChangeFeed',
    'ChangeListener',
    'ChannelStats',
    'ChatStore',
    'ChatStoreApi',
    'ChatStoreError',
    'ChatStoreErrorOptions',
    'ChatStoreOptions',
    'Command',
    'CommandOptions',
    'CompactionReport',
    'ContextMessage',
    'ContextOptions',
    'Conversation',
    'ConversationDeletion',
    'ConversationPage',
    'ConversationPatch',
    'ConversationPosition',
    'ConversationQuery',
    'ConversationVersion',
    'CreateConversationRequest',
    'DEFAULT_LIMITS',
    'DeleteOptions',
    'Direction',
    'DIRECTIONS',
    'EditOptions',
    'EraseOptions',
    'ErasureCounts',
    'ErasureReceipt',
    'ERROR_CODES',
    'ErrorCode',
    'ExpiryCounts',
    'ExpiryRequest',
    'ExportFilter',
    'ExportRecord',
    'HTTP_STATUS',
    'isChatStoreError',
    'JsonObject',
    'JsonValue',
    'Limits',
    'ListArchivedOptions',
    'ListConversationsOptions',
    'ListOptions',
    'Media',
    'Message',
    'MESSAGE_STATUSES',
    'MessageDraft',
    'MessageError',
    'MessageStatus',
    'NewConversation',
    'NewMessage',
    'NewParticipant',
    'nextStatus',
    'Page',
    'Participant',
    'PARTICIPANT_KINDS',
    'ParticipantKind',
    'planAppend',
    'RangeQuery',
    'redact',
    'RemovalOptions',
    'RestoreOptions',
    'RestoreRequest',
    'RetentionOptions',
    'RetentionReport',
    'Role',
    'ROLES',
    'SearchHit',
    'SearchOptions',
    'SearchPage',
    'SearchPosition',
    'SearchQuery',
    'searchTerms',
    'Stats',
    'StatusOptions',
    'StatusTimes',
    'StoredMatches',
    'SubjectConversation',
    'SubjectExportRecord',
    'TierStats',
    'TokenCounter',
    'writesNothing',
  ],
  './open': ['DEFAULT_URL', 'openBackend', 'openStore', 'parseStoreUrl', 'SCHEMES', 'StoreUrl'],
  './memory': ['memoryBackend'],
  './sqlite': ['sqliteBackend', 'SqliteOptions', 'sqliteUrlOptions'],
  './redis': [
    'redisBackend',
    'RedisClient',
    'RedisOptions',
    'redisTailStore',
    'RedisTailStoreOptions',
    'redisUrlOptions',
  ],
  './postgres': [
    'HistoryOptions',
    'PgPool',
    'PgPoolClient',
    'PgQueryConfig',
    'PgQueryResult',
    'postgresBackend',
    'PostgresBackend',
    'postgresMigrations',
    'PostgresOptions',
    'postgresUrlOptions',
  ],
  './mysql': [
    'mergePatches',
    'mysqlBackend',
    'MysqlBackend',
    'mysqlMigrations',
    'MysqlOptions',
    'MysqlPool',
    'MysqlPoolConnection',
    'MysqlResult',
    'mysqlUrlOptions',
  ],
  './cloudflare': [
    'ChatStoreBindings',
    'chatstoreWorker',
    'ChatStoreWorkerEnv',
    'ChatStoreWorkerHandler',
    'ChatStoreWorkerOptions',
    'cloudflareBackend',
    'ConversationObject',
    'DirectoryObject',
  ],
  './tiers': [
    'DEFAULT_MAX_ACTIVE_CONVERSATIONS',
    'DEFAULT_MAX_MESSAGES_PER_CONVERSATION',
    'SharedTailChange',
    'SharedTailRead',
    'sharedTails',
    'SharedTailsOptions',
    'SharedTailStore',
    'Tail',
    'tailCache',
    'TailCacheOptions',
    'TailCoherence',
  ],
  './archive': ['archiveTier', 'ArchiveTierOptions', 'Compression', 'COMPRESSIONS'],
  './migrate': [
    'DEFAULT_RUNS_DIR',
    'LayoutName',
    'LAYOUTS',
    'migrate',
    'MigrationJob',
    'MigrationJobs',
    'MigrationOptions',
    'MigrationProgress',
    'MigrationReport',
    'MigrationRequest',
    'rollbackMigration',
    'RollbackReport',
    'SourceDeletion',
    'Verification',
  ],
  './ingest': [
    'applyEvents',
    'EditEvent',
    'formParams',
    'IngestEvent',
    'IngestResult',
    'MessageEvent',
    'StatusEvent',
    'telegramEvents',
    'twilioEvents',
    'twilioSignature',
    'verifySecretToken',
    'verifyTwilioSignature',
    'verifyWhatsAppSignature',
    'whatsappEvents',
  ],
  './langchain': ['ChatStoreChatMessageHistory', 'ChatStoreHistoryOptions', 'langchainMessage', 'storedMessage'],
  './ai-sdk': [
    'AiSdkMetadata',
    'isTruncated',
    'loadUIMessages',
    'LoadUIMessagesOptions',
    'PersistedResponse',
    'persistResponse',
    'PersistResponseOptions',
    'SavedUIMessage',
    'saveUIMessages',
    'SaveUIMessagesOptions',
    'storedUIMessage',
    'StoredUIMessage',
    'uiMessage',
    'UIMessageStreamSource',
  ],
  './logger': [
    'BotEvents',
    'IncomingContext',
    'messageLogger',
    'MessageLogger',
    'MessageLoggerOptions',
    'OutgoingExtra',
    'ProviderEvents',
    'SentMessage',
  ],
  './builderbot': [
    'builderbotAdapter',
    'BuilderBotAdapter',
    'BuilderBotAdapterOptions',
    'BuilderBotBot',
    'BuilderBotContext',
    'builderbotDatabase',
    'BuilderBotDatabase',
    'BuilderBotDatabaseOptions',
    'BuilderBotFlow',
    'BuilderBotFlowStep',
  ],
  './server': ['AppOptions', 'createApp', 'DEFAULT_MAX_BODY_BYTES', 'WebhookSecrets'],
  './server/node': ['FetchApp', 'NodeServer', 'NodeServerOptions', 'startNodeServer'],
  './client': ['chatStoreClient', 'ChatStoreClientOptions', 'FetchFunction'],
};

/** Every name a module exports, types included, sorted the same way as the lists above. */
function exportedNames(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (source === undefined) throw new Error(`no source file ${file}`);
  const symbol = checker.getSymbolAtLocation(source);
  if (symbol === undefined) return [];
  return checker
    .getExportsOfModule(symbol)
    .map((exported) => exported.getName())
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()) || a.localeCompare(b));
}

describe('public surface', () => {
  it('the subpath exports and the bin', () => {
    expect(Object.keys(manifest.exports)).toEqual(Object.keys(SURFACE));
    expect(manifest.bin).toEqual({ chatstore: './dist/cli/main.js' });
  });

  for (const [subpath, target] of Object.entries(manifest.exports)) {
    it(`${subpath} exports exactly its pinned names`, () => {
      expect(target.types).toBe(target.default.replace(/\.js$/, '.d.ts'));
      expect(exportedNames(sourceOf(target.default))).toEqual(SURFACE[subpath]);
    });
  }
});
