/**
 * chatstore itself, over any store URL, through the public API only: what a user's code would call.
 */
import type { NewMessage } from '../../src/model.js';
import { openStore } from '../../src/open.js';
import type { Contender, ContenderInstance, Footprint, Workspace } from '../contender.js';

/** Reads run at once by `touch`: at least as many as a store's connection pool holds (10 by default). */
const TOUCH_READS = 10;

/** @example chatstoreContender({ name: 'chatstore memory', engine: 'memory', url: () => 'memory://', … }) */
export interface ChatstoreContenderOptions extends Omit<Contender, 'kind' | 'open'> {
  /** The store URL for a fresh workspace. */
  url(workspace: Workspace): string;
  /**
   * The storage of a workspace, for engines whose store cannot tell (servers). `touch` runs a read
   * through the store on each of its connections. Default: `store.storageBytes()` (SQLite: the
   * file with its WAL and shared-memory file); no footprint where that is undefined (memory, Redis).
   */
  footprint?(workspace: Workspace, touch: () => Promise<void>): Promise<Footprint>;
}

/**
 * @example
 * const contender = chatstoreContender({
 *   name: 'chatstore sqlite FULL', engine: 'sqlite', durabilityLabel: 'fsync/commit', durability: '…',
 *   url: (ws) => `sqlite://${ws.dir}/chat.db?durability=full`,
 * });
 */
export function chatstoreContender(options: ChatstoreContenderOptions): Contender {
  const { url, footprint: measure, ...described } = options;
  return {
    ...described,
    kind: 'chatstore',
    storeUrl: url,
    async open(workspace): Promise<ContenderInstance> {
      const store = await openStore(url(workspace));
      const touch = async () => {
        await Promise.all(Array.from({ length: TOUCH_READS }, () => store.recent('footprint-touch', 1)));
      };
      const footprint =
        measure !== undefined
          ? () => measure(workspace, touch)
          : (await store.storageBytes()) === undefined
            ? undefined
            : async (): Promise<Footprint> => ({ bytes: (await store.storageBytes()) ?? Number.NaN });
      return {
        ...(footprint === undefined ? {} : { footprint }),
        async append(conversationId: string, message: NewMessage) {
          await store.append(conversationId, message);
        },
        async appendBatch(conversationId: string, messages: NewMessage[]) {
          await store.append(conversationId, messages);
        },
        lastN: (conversationId, n) => store.recent(conversationId, n),
        tiers: () => store.tierStats(),
        async pageBack(conversationId, cursor, n) {
          const page = await store.list(conversationId, {
            order: 'desc',
            limit: n,
            ...(typeof cursor === 'string' ? { cursor } : {}),
          });
          return page.next === undefined ? { messages: page.messages } : { messages: page.messages, next: page.next };
        },
        async readAll(conversationId) {
          const all = [];
          let cursor: string | undefined;
          do {
            const page = await store.list(conversationId, {
              limit: 1000,
              ...(cursor === undefined ? {} : { cursor }),
            });
            all.push(...page.messages);
            cursor = page.next;
          } while (cursor !== undefined);
          return all;
        },
        async search(query, limit) {
          return (await store.search(query, { limit })).hits.length;
        },
        close: () => store.close(),
      };
    },
  };
}
