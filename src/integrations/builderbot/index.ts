/**
 * `chatstore/builderbot`: a store for BuilderBot bots. `builderbotDatabase(store, { flow })` is the
 * bot's database (`createBot({ database })`, in place of `MemoryDB`): where each customer is in the
 * flow, kept in their conversation, so a restarted bot continues at a `capture`. `builderbotAdapter`
 * adds the message logger of `chatstore/logger` for the messages themselves, wired in one call.
 * It imports only the store and the model; `@builderbot/bot` is typed by the part it uses.
 */

import { ChatStoreError } from '../../errors.js';
import type { ChatStore } from '../../store.js';
import { type BotEvents, type MessageLogger, messageLogger, type ProviderEvents } from '../logger/index.js';
import { type BuilderBotDatabase, type BuilderBotDatabaseOptions, builderbotDatabase } from './database.js';

export type { BuilderBotContext, BuilderBotDatabase, BuilderBotDatabaseOptions } from './database.js';
export { builderbotDatabase } from './database.js';
export type { BuilderBotFlow, BuilderBotFlowStep } from './flow-positions.js';

export interface BuilderBotAdapterOptions extends Omit<BuilderBotDatabaseOptions, 'onError'> {
  /** The bot's own id (its number): the sender of its answers, the recipient of the customers' messages. */
  bot?: string;
  /** Where the store's failures go, the logger's and the database's alike; neither throws into the flow. */
  onError?: (
    error: unknown,
    failed: { operation: 'incoming' | 'outgoing' | 'save-step' | 'read-step'; conversationId: string },
  ) => void;
}

/** A BuilderBot bot (`createBot`'s result): its events, and the flow it runs. */
export interface BuilderBotBot extends BotEvents {
  flowClass?: unknown;
}

export interface BuilderBotAdapter {
  /** For `createBot({ database })`. */
  database: BuilderBotDatabase;
  /** The message logger, for `logOutgoing` or `sendAndLog` outside the flow's answers. */
  logger: MessageLogger;
  /**
   * Logs every message `provider` receives and every answer `bot` sends. `ChatStoreError('INVALID_ARGUMENT')`
   * when the bot runs another flow than the database's.
   */
  attach(bot: BuilderBotBot, provider: ProviderEvents): void;
}

/**
 * The database and the message logger over one store: flow steps in the conversation's metadata,
 * messages in the conversation, each stored once.
 * @example
 * const flow = createFlow([orderFlow]);
 * const chat = builderbotAdapter(store, { flow, bot: '+15550783881', onError: console.warn });
 * const bot = await createBot({ flow, provider, database: chat.database });
 * chat.attach(bot, provider);
 */
export function builderbotAdapter(store: ChatStore, options: BuilderBotAdapterOptions): BuilderBotAdapter {
  const onError = options?.onError;
  const channel = options?.channel;
  const database = builderbotDatabase(store, {
    flow: options?.flow,
    ...(channel === undefined ? {} : { channel }),
    ...(onError === undefined ? {} : { onError }),
  });
  const logger = messageLogger(store, {
    ...(options.bot === undefined ? {} : { bot: options.bot }),
    ...(channel === undefined ? {} : { channel }),
    ...(onError === undefined ? {} : { onError }),
  });
  return {
    database,
    logger,
    attach(bot, provider) {
      if (bot?.flowClass !== undefined && bot.flowClass !== options.flow) {
        throw new ChatStoreError(
          'INVALID_ARGUMENT',
          'bot: it runs another flow than the one given to builderbotAdapter',
          {
            path: 'bot',
          },
        );
      }
      logger.attachTo(bot, provider);
    },
  };
}
