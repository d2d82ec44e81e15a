/**
 * The whole Worker: the two Durable Object classes chatstore runs on, and the HTTP API of
 * `chatstore serve` as the Worker's fetch handler. Bindings and migrations: ../wrangler.toml.
 */
import { chatstoreWorker } from 'chatstore/cloudflare';

export { ConversationObject, DirectoryObject } from 'chatstore/cloudflare';

export default chatstoreWorker();
