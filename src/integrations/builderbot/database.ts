/**
 * The BuilderBot database over a ChatStore: where a customer is in the flow, kept in their
 * conversation so that another process continues it.
 */
import { LRUCache } from 'lru-cache';
import { ChatStoreError, isChatStoreError } from '../../errors.js';
import type { JsonObject } from '../../model.js';
import { normalizedPhone } from '../../phone.js';
import type { ChatStore } from '../../store.js';
import { type BuilderBotFlow, type FlowPositions, flowPositions, type Position } from './flow-positions.js';

/** What BuilderBot saves and reads back: one step of the flow sent to `from`, or the customer's answer to one. */
export interface BuilderBotContext {
  from: string;
  ref?: string;
  /** The step it follows: its parent's ref, or for a customer's answer the refSerialize of the step that asked. */
  keyword?: unknown;
  answer?: unknown;
  refSerialize?: string;
  options?: { capture?: boolean; idle?: number; nested?: unknown; [option: string]: unknown };
  [field: string]: unknown;
}

export interface BuilderBotDatabaseOptions {
  /** The flow given to `createBot` (what `createFlow` returned): steps are saved by their position in it. */
  flow: BuilderBotFlow;
  /** The channel of the conversations it creates (default `whatsapp`, as the logger's). */
  channel?: string;
  /** Where failures of the store go; the database never throws them into the flow. */
  onError?: (error: unknown, failed: { operation: 'save-step' | 'read-step'; conversationId: string }) => void;
}

/** What `createBot({ database })` calls (BuilderBot's `MemoryDB` shape). */
export interface BuilderBotDatabase {
  /** Always empty and frozen: BuilderBot's type asks for it, the history is in the store. */
  readonly listHistory: unknown[];
  /** The last step saved for `from` (the flow to continue, a capture to answer), or undefined. */
  getPrevByNumber(from: string): Promise<BuilderBotContext | undefined>;
  /** Keeps `ctx` as the step of its conversation when it has a keyword; BuilderBot never continues from one without. */
  save(ctx: BuilderBotContext): Promise<void>;
}

/** The step as stored: each ref a position in the flow (`step`/`serial`) or, when it is none, its `value`. */
interface StoredStep {
  flow: string;
  from: string;
  ref: StoredRef;
  keyword: StoredRef;
  refSerialize: StoredRef;
  answer?: unknown;
  options?: unknown;
}
type StoredRef = Position | { value: unknown };

/** Conversations whose unsaved step (the store failed) is kept in memory, and whose latest save is tracked. */
const RECENT_CONVERSATIONS = 10_000;

/**
 * A BuilderBot database (use it as `createBot({ database })` in place of `MemoryDB`) that keeps where
 * each customer is in the flow in their conversation's metadata (`metadata.builderbot.step`), so a
 * restarted bot, or another instance on the same store, continues the flow, a `capture` included.
 * The messages themselves are the logger's (`chatstore/logger`): nothing is stored twice.
 *
 * The store's failures never reach the flow: the step is kept in memory, written again on the next
 * read, and the failure goes to `onError`. A ctx without `from` is a `ChatStoreError('INVALID_ARGUMENT')`.
 * @example
 * const flow = createFlow([orderFlow]);
 * const bot = await createBot({ flow, provider, database: builderbotDatabase(store, { flow }) });
 */
export function builderbotDatabase(store: ChatStore, options: BuilderBotDatabaseOptions): BuilderBotDatabase {
  const positions = flowPositions(options?.flow);
  const channel = options.channel ?? 'whatsapp';
  /** Steps the store refused, by conversation: the flow goes on from them in this process. */
  const unsaved = new LRUCache<string, BuilderBotContext>({ max: RECENT_CONVERSATIONS });
  /** The number of the latest save of each conversation: an older save's outcome never replaces a newer one's. */
  const latest = new LRUCache<string, number>({ max: RECENT_CONVERSATIONS });
  let saves = 0;
  const report = (operation: 'save-step' | 'read-step', conversationId: string, error: unknown): void => {
    try {
      options.onError?.(error, { operation, conversationId });
    } catch {
      // A failing error hook must not break the flow either.
    }
  };

  const write = async (conversationId: string, ctx: BuilderBotContext): Promise<void> => {
    const save = ++saves;
    latest.set(conversationId, save);
    try {
      await writeStep(store, conversationId, encodeStep(ctx, positions), channel);
      if (latest.get(conversationId) === save) unsaved.delete(conversationId);
    } catch (error) {
      if (latest.get(conversationId) === save) unsaved.set(conversationId, ctx);
      report('save-step', conversationId, error);
    }
  };

  return {
    listHistory: Object.freeze([]) as unknown as unknown[],

    async getPrevByNumber(from) {
      const conversationId = conversationOf(from, 'from');
      const pending = unsaved.get(conversationId);
      if (pending !== undefined) {
        await write(conversationId, pending);
        return { ...pending };
      }
      try {
        const metadata = (await store.getConversation(conversationId))?.metadata;
        return decodeStep(metadata?.builderbot, positions);
      } catch (error) {
        // Unread, the message is handled as one that continues nothing (a keyword, the welcome flow).
        report('read-step', conversationId, error);
        return undefined;
      }
    },

    async save(ctx) {
      const conversationId = conversationOf(ctx?.from, 'ctx.from');
      if (!ctx.keyword) return;
      await write(conversationId, { ...ctx });
    },
  };
}

function conversationOf(from: unknown, path: string): string {
  if (typeof from !== 'string' || from === '') {
    throw new ChatStoreError('INVALID_ARGUMENT', `${path}: BuilderBot's sender id, a non-empty string`, { path });
  }
  return normalizedPhone(from);
}

/**
 * One engine-side merge patch per save, no read first: concurrent webhooks of one customer each
 * write whole steps and the last to commit is the step, as MemoryDB's last push is.
 */
async function writeStep(store: ChatStore, conversationId: string, step: StoredStep, channel: string): Promise<void> {
  // The step is JSON text: a merge patch replaces a string whole, where it would merge an object
  // into the previous step and keep what the new one lacks (a `capture: true` outliving its step).
  const metadata: JsonObject = { builderbot: { step: JSON.stringify(step) } };
  for (let attempt = 1; ; attempt++) {
    try {
      await store.updateConversation(conversationId, { metadata });
      return;
    } catch (error) {
      if (!isChatStoreError(error, 'NOT_FOUND') || attempt > 1) throw error;
    }
    try {
      // The first step of a customer the logger has not stored yet.
      await store.createConversation(conversationId, { type: 'private', channel, metadata });
      return;
    } catch (error) {
      // The logger's append (or another instance) created it meanwhile: update it.
      if (!isChatStoreError(error, 'CONFLICT')) throw error;
    }
  }
}

function encodeStep(ctx: BuilderBotContext, positions: FlowPositions): StoredStep {
  const encode = (value: unknown): StoredRef => positions.position(value) ?? { value: value ?? null };
  const ofFlow = positions.stepOf(ctx.ref) !== undefined;
  const { nested: _nested, ...options } = ctx.options ?? {};
  return {
    flow: positions.version,
    from: ctx.from,
    ref: encode(ctx.ref),
    keyword: encode(ctx.keyword),
    refSerialize: encode(ctx.refSerialize),
    ...(ctx.answer === undefined ? {} : { answer: ctx.answer }),
    // A step of the flow takes its options from the flow when read back; a message's (the
    // customer's answer, an endFlow) are its own.
    ...(ofFlow ? {} : { options }),
  };
}

/** The stored step in this process's refs; undefined when there is none or the flow has changed since. */
function decodeStep(stored: unknown, positions: FlowPositions): BuilderBotContext | undefined {
  const text = (stored as { step?: unknown } | undefined)?.step;
  if (typeof text !== 'string') return undefined;
  let step: StoredStep;
  try {
    step = JSON.parse(text) as StoredStep;
  } catch {
    return undefined;
  }
  if (step?.flow !== positions.version) return undefined;
  const missing = Symbol('missing');
  const decode = (value: StoredRef | undefined): unknown => {
    if (value === undefined) return missing;
    if ('value' in value) return value.value;
    return positions.valueAt(value) ?? missing;
  };
  const ref = decode(step.ref);
  const keyword = decode(step.keyword);
  const refSerialize = decode(step.refSerialize);
  if (ref === missing || keyword === missing || refSerialize === missing) return undefined;
  const ofFlow = positions.stepOf(ref);
  return {
    ref: ref as string,
    keyword,
    answer: step.answer,
    refSerialize: refSerialize as string,
    options: (ofFlow?.options ?? step.options ?? {}) as BuilderBotContext['options'],
    from: step.from,
  };
}
