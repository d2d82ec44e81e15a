/**
 * The Worker that serves chatstore's HTTP API (the same Hono app as `chatstore serve`) over the
 * Durable Objects. One store and one app per isolate, built on the first request from the
 * Worker's bindings; API keys come from the `CHATSTORE_API_KEYS` secret, in `serve`'s format. A
 * Worker has no loopback clients, so without keys every data route answers 403 (`serve`'s rule
 * for a keyless server reached from elsewhere).
 */
import { createApp } from '../../server/app.js';
import { parseApiKeys } from '../../server/auth.js';
import { ChatStore, type ChatStoreOptions } from '../../store.js';
import { cloudflareBackend } from './backend.js';
import type { ChatStoreBindings } from './bindings.js';

/** The Worker's environment: the Durable Object bindings, the number of directory shards and the keys. */
export interface ChatStoreWorkerEnv extends ChatStoreBindings {
  /** `name:key:scope` entries, as `CHATSTORE_API_KEYS` of `chatstore serve` (`wrangler secret put`). */
  CHATSTORE_API_KEYS?: string;
}

export interface ChatStoreWorkerOptions {
  /** Options of the store the Worker serves (limits, commands, token counting…). */
  store?: ChatStoreOptions;
}

/** A Worker's default export: `fetch` serves the API. */
export interface ChatStoreWorkerHandler {
  fetch(request: Request, env: ChatStoreWorkerEnv): Promise<Response>;
}

/**
 * @example
 * // src/index.ts of a Worker (wrangler.toml in docs/cloudflare.md)
 * export { ConversationObject, DirectoryObject } from 'chatstore/cloudflare';
 * export default chatstoreWorker();
 */
export function chatstoreWorker(options: ChatStoreWorkerOptions = {}): ChatStoreWorkerHandler {
  let served: { env: ChatStoreWorkerEnv; app: ReturnType<typeof createApp> } | undefined;
  return {
    async fetch(request, env) {
      if (served?.env !== env) {
        const store = new ChatStore(cloudflareBackend(env), options.store);
        served = { env, app: createApp(store, { apiKeys: parseApiKeys(env.CHATSTORE_API_KEYS ?? '') }) };
      }
      return served.app.fetch(request, {});
    },
  };
}
