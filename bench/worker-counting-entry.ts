/**
 * chatstore's Worker with its two Durable Object classes counting the rows their SQL writes, for
 * the `worker` workload's calls sent straight to the objects (bench/worker.ts `objectTimedStore`;
 * the Worker the client calls is bench/worker-entry.ts, uncounted). Each object adds up the
 * `rowsWritten` of every statement it runs (SQLite's count: table rows and index entries written,
 * as Cloudflare bills them) and answers `https://chatstore.internal/bench-rows-written` with the
 * total so far. Nothing else differs: the objects run chatstore's code on a proxy of their storage.
 */

import type { ChatStoreBindings } from '../src/backends/cloudflare/bindings.js';
import {
  ConversationObject as Conversation,
  chatstoreWorker,
  DirectoryObject as Directory,
} from '../src/backends/cloudflare/index.js';
import type { DurableObjectState, SqlCursor } from '../src/backends/cloudflare/platform.js';

const ROWS_WRITTEN_PATH = '/bench-rows-written';

/** The object's state with `storage.sql.exec` counted; `total()` adds up what the statements wrote. */
function counted(state: DurableObjectState): { state: DurableObjectState; total(): number } {
  const cursors: SqlCursor<unknown>[] = [];
  let settled = 0;
  const sql = new Proxy(state.storage.sql, {
    get(target, property) {
      if (property === 'exec') {
        return (query: string, ...bindings: never[]) => {
          const cursor = target.exec(query, ...bindings);
          cursors.push(cursor);
          return cursor;
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const storage = new Proxy(state.storage, {
    get(target, property) {
      if (property === 'sql') return sql;
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const proxied = new Proxy(state, {
    get(target, property) {
      if (property === 'storage') return storage;
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    state: proxied,
    total() {
      // A statement's count is final once it has run to its end: by the time anyone asks, all have.
      settled += cursors.reduce((sum, cursor) => sum + cursor.rowsWritten, 0);
      cursors.length = 0;
      return settled;
    },
  };
}

function answerRows(request: Request, total: () => number): Response | undefined {
  return new URL(request.url).pathname === ROWS_WRITTEN_PATH ? Response.json(total()) : undefined;
}

export class ConversationObject extends Conversation {
  readonly #total: () => number;

  constructor(state: DurableObjectState, bindings: ChatStoreBindings) {
    const counting = counted(state);
    super(counting.state, bindings);
    this.#total = counting.total;
  }

  override fetch(request: Request): Promise<Response> {
    return Promise.resolve(answerRows(request, this.#total) ?? super.fetch(request));
  }
}

export class DirectoryObject extends Directory {
  readonly #total: () => number;

  constructor(state: DurableObjectState) {
    const counting = counted(state);
    super(counting.state);
    this.#total = counting.total;
  }

  override fetch(request: Request): Promise<Response> {
    return Promise.resolve(answerRows(request, this.#total) ?? super.fetch(request));
  }
}

export default chatstoreWorker();
