/**
 * `chatstore serve`: the HTTP API over the store named by `--url` / `CHATSTORE_URL`, until SIGTERM
 * or SIGINT. Configuration, flags first, then the environment:
 *
 * | flag | environment | default |
 * |---|---|---|
 * | `--url` (global) | `CHATSTORE_URL` | `sqlite://./data/chatstore.db` |
 * | `--port` | `PORT` | `8080` (0 picks a free port) |
 * | `--host` | `HOST` | `127.0.0.1` |
 * | | `CHATSTORE_API_KEYS` (or a file named by `CHATSTORE_API_KEYS_FILE`) | none: loopback only |
 * | `--max-body <bytes>` | `CHATSTORE_MAX_BODY_BYTES` | 4 MiB |
 * | `--shutdown-timeout <ms>` | `CHATSTORE_SHUTDOWN_TIMEOUT_MS` | 10000 |
 * | `--cors-origin <origin>` (repeatable) | `CHATSTORE_CORS_ORIGINS` (comma-separated) | none: no CORS |
 * | | `LOG_LEVEL` | `info` |
 * | `?maxActiveConversations=` in the URL | `MAX_ACTIVE_CONVERSATIONS` | none: no in-process tier |
 * | `?maxMessagesPerConversation=` in the URL | `MAX_MESSAGES_PER_CUSTOMER` (or `MAX_MESSAGES_PER_CONVERSATION`) | 50 |
 * | `?cacheUrl=` in the URL | `CHATSTORE_CACHE_URL` | none: no shared tier |
 * | `?archiveDir=` in the URL | `CHATSTORE_ARCHIVE_DIR` (or `ARCHIVE_AFTER_DAYS` alone: `./data/archive`) | none: no archive |
 * | `?archiveAfterDays=` in the URL | `ARCHIVE_AFTER_DAYS` | 30 |
 * | `?compression=none` in the URL | `COMPRESSION_ENABLED=false` | gzip |
 * | `?storageBatchSize=` in the URL | `STORAGE_BATCH_SIZE` | 1000 |
 * | `--retention-days <n>` | `CHATSTORE_RETENTION_DAYS` | none: messages are kept |
 * | `--maintenance-every <minutes>` | `CHATSTORE_MAINTENANCE_EVERY_MINUTES` | 60: archiving and retention at start, then this often (0: never) |
 * | | `CHATSTORE_WHATSAPP_APP_SECRET` and `CHATSTORE_WHATSAPP_VERIFY_TOKEN` | none: `/webhooks/whatsapp` off |
 * | | `CHATSTORE_TWILIO_AUTH_TOKEN` (and `CHATSTORE_TWILIO_PUBLIC_URL` behind a proxy) | none: `/webhooks/twilio` off |
 * | | `CHATSTORE_TELEGRAM_SECRET_TOKEN` | none: `/webhooks/telegram` off |
 *
 * Without API keys the server refuses to bind a non-loopback address, and the app refuses
 * non-loopback clients and non-loopback `Host` names. Logs are JSON lines (pino) on stdout; they
 * never contain keys, message content or a store URL's secrets (`redact`).
 */
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ChatStoreError, redact } from '../errors.js';
import { MigrationJobs } from '../migrate/jobs.js';
import { DEFAULT_RUNS_DIR } from '../migrate/run-files.js';
import { openStore } from '../open.js';
import { createApp, DEFAULT_MAX_BODY_BYTES } from '../server/app.js';
import { isLoopbackHost, parseApiKeys } from '../server/auth.js';
import { type NodeServer, startNodeServer } from '../server/node.js';
import type { WebhookSecrets } from '../server/routes/webhooks.js';
import { type CommandContext, storeUrlOf } from './context.js';
import { scheduleMaintenance } from './maintenance-schedule.js';

export interface ServeOptions {
  port?: string;
  host?: string;
  maxBody?: string;
  shutdownTimeout?: string;
  /** `--cors-origin`, each possibly a comma-separated list; none given: `CHATSTORE_CORS_ORIGINS`. */
  corsOrigin?: string[];
  maintenanceEvery?: string;
  retentionDays?: string;
}

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
const DEFAULT_MAINTENANCE_EVERY_MINUTES = 60;

/** Runs the server; resolves after a graceful shutdown (exit code 0). */
export async function serve(
  context: CommandContext,
  options: ServeOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const url = storeUrlOf(context, env);
  const port = integer(options.port ?? env.PORT, DEFAULT_PORT, 'port', 65_535);
  const host = options.host ?? env.HOST ?? DEFAULT_HOST;
  const maxBodyBytes = integer(options.maxBody ?? env.CHATSTORE_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES, 'max-body');
  const shutdownTimeoutMs = integer(
    options.shutdownTimeout ?? env.CHATSTORE_SHUTDOWN_TIMEOUT_MS,
    DEFAULT_SHUTDOWN_TIMEOUT_MS,
    'shutdown-timeout',
  );
  const maintenanceEvery = integer(
    options.maintenanceEvery ?? env.CHATSTORE_MAINTENANCE_EVERY_MINUTES,
    DEFAULT_MAINTENANCE_EVERY_MINUTES,
    'maintenance-every',
    10_080,
  );
  const retentionText = options.retentionDays ?? env.CHATSTORE_RETENTION_DAYS;
  const retentionDays =
    retentionText === undefined || retentionText.trim() === ''
      ? undefined
      : integer(retentionText, 0, 'retention-days', 1_000_000);
  const flagOrigins = options.corsOrigin ?? [];
  const corsOrigins = origins(flagOrigins.length > 0 ? flagOrigins.join(',') : (env.CHATSTORE_CORS_ORIGINS ?? ''));
  const apiKeys = parseApiKeys(await apiKeyText(env));
  if (apiKeys.length === 0 && !isLoopbackHost(host)) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      `refusing to listen on ${host} without API keys: anyone who can reach it could read and delete every message. Set CHATSTORE_API_KEYS="<key>:read,write;<key>:admin" or bind to 127.0.0.1`,
      { path: 'host' },
    );
  }

  const logger = pino(
    {
      level: env.LOG_LEVEL ?? 'info',
      base: { service: 'chatstore' },
      redact: { paths: ['authorization', 'apiKey', 'apiKeys', 'headers.authorization', 'headers["x-api-key"]'] },
    },
    context.stdout,
  );
  const webhooks = webhookSecrets(env);
  const store = await openStore(url);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  let server: NodeServer | undefined;
  const app = createApp(store, {
    apiKeys,
    maxBodyBytes,
    logger,
    registry,
    corsOrigins,
    storeUrl: url,
    draining: () => server?.draining ?? false,
    storageBytes: () => store.storageBytes(),
    migrations: new MigrationJobs(store, env.CHATSTORE_MIGRATIONS_DIR || DEFAULT_RUNS_DIR),
    webhooks,
  });
  try {
    server = await startNodeServer(app, { port, host, shutdownTimeoutMs });
  } catch (error) {
    await store.close();
    throw error;
  }
  logger.info(
    {
      url: server.url,
      port: server.port,
      store: redact(url),
      backend: store.backendName,
      auth: apiKeys.length === 0 ? 'off (loopback clients only)' : `${apiKeys.length} API key(s)`,
      cors: corsOrigins.length === 0 ? 'off' : corsOrigins,
      maxBodyBytes,
    },
    'chatstore listening',
  );
  const archive = (await store.archiveStats()) !== undefined;
  const maintenance =
    maintenanceEvery > 0 && (archive || retentionDays !== undefined)
      ? scheduleMaintenance(
          store,
          { everyMinutes: maintenanceEvery, archive, ...(retentionDays === undefined ? {} : { retentionDays }) },
          logger,
        )
      : undefined;
  if (apiKeys.length === 0) {
    logger.warn(
      {},
      'no API keys configured (CHATSTORE_API_KEYS): serving loopback clients only, without authentication',
    );
  }

  const signals = onSignals(['SIGTERM', 'SIGINT'], () => {
    logger.warn({}, 'second signal: closing open connections now');
    server?.forceClose();
  });
  const signal = await signals.first;
  logger.info({ signal, shutdownTimeoutMs }, 'shutting down: finishing in-flight requests');
  try {
    await server.shutdown();
    await maintenance?.stop();
  } finally {
    signals.dispose();
    await store.close();
  }
  logger.info({}, 'chatstore stopped');
}

/** `first` resolves with the first of `signals`; later ones call `again` until `dispose()`. */
function onSignals(signals: NodeJS.Signals[], again: () => void): { first: Promise<NodeJS.Signals>; dispose(): void } {
  let received = false;
  let resolveFirst: (signal: NodeJS.Signals) => void = () => {};
  const first = new Promise<NodeJS.Signals>((resolve) => {
    resolveFirst = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) return again();
    received = true;
    resolveFirst(signal);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return {
    first,
    dispose() {
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}

async function apiKeyText(env: NodeJS.ProcessEnv): Promise<string> {
  const file = env.CHATSTORE_API_KEYS_FILE;
  if (file === undefined || file === '') return env.CHATSTORE_API_KEYS ?? '';
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new ChatStoreError('INVALID_ARGUMENT', `cannot read CHATSTORE_API_KEYS_FILE ${file}`, {
      path: 'CHATSTORE_API_KEYS_FILE',
      cause,
    });
  }
}

/**
 * CORS origins from a comma-separated list: each exactly as a browser sends `Origin`
 * (`https://app.example.com`, `http://localhost:3000`): a scheme, a host, a port only when it is not
 * the default one, no path. `*` is refused: the API serves personal data.
 */
function origins(text: string): string[] {
  const list = text
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    const web = parsed !== undefined && (parsed.protocol === 'https:' || parsed.protocol === 'http:');
    if (!web || parsed?.origin !== origin) {
      const hint = web && parsed !== undefined ? `; write it as ${parsed.origin}` : '';
      throw new ChatStoreError(
        'INVALID_ARGUMENT',
        `cors-origin "${origin}" is not an origin (http or https, a host, a port only if not the default, no path: as a browser sends it)${hint}`,
        { path: 'cors-origin' },
      );
    }
  }
  return [...new Set(list)];
}

function integer(text: string | undefined, fallback: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined || text.trim() === '') return fallback;
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value > max) {
    throw new ChatStoreError('INVALID_ARGUMENT', `${name} must be an integer from 0 to ${max}, not "${text}"`, {
      path: name,
    });
  }
  return value;
}

/** The webhook secrets in the environment: a provider is on when its secrets are set. */
function webhookSecrets(env: NodeJS.ProcessEnv): WebhookSecrets {
  const appSecret = env.CHATSTORE_WHATSAPP_APP_SECRET;
  const verifyToken = env.CHATSTORE_WHATSAPP_VERIFY_TOKEN;
  if ((appSecret === undefined) !== (verifyToken === undefined)) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      'the WhatsApp webhook needs both CHATSTORE_WHATSAPP_APP_SECRET and CHATSTORE_WHATSAPP_VERIFY_TOKEN',
      { path: 'CHATSTORE_WHATSAPP_APP_SECRET' },
    );
  }
  const twilioToken = env.CHATSTORE_TWILIO_AUTH_TOKEN;
  const publicUrl = env.CHATSTORE_TWILIO_PUBLIC_URL;
  const telegramToken = env.CHATSTORE_TELEGRAM_SECRET_TOKEN;
  return {
    ...(appSecret && verifyToken ? { whatsapp: { appSecret, verifyToken } } : {}),
    ...(twilioToken ? { twilio: { authToken: twilioToken, ...(publicUrl ? { publicUrl } : {}) } } : {}),
    ...(telegramToken ? { telegram: { secretToken: telegramToken } } : {}),
  };
}
