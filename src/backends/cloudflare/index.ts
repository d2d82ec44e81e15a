/**
 * `chatstore/cloudflare`: chatstore on Cloudflare Workers, a Durable Object per conversation as
 * the system of record and a directory object for what spans conversations (docs/cloudflare.md).
 * A Worker re-exports the two object classes and serves the HTTP API with `chatstoreWorker()`,
 * or builds its own `ChatStore` on `cloudflareBackend(env)`.
 */
export { cloudflareBackend } from './backend.js';
export type { ChatStoreBindings } from './bindings.js';
export { ConversationObject } from './conversation-object.js';
export { DirectoryObject } from './directory-object.js';
export {
  type ChatStoreWorkerEnv,
  type ChatStoreWorkerHandler,
  type ChatStoreWorkerOptions,
  chatstoreWorker,
} from './worker.js';
