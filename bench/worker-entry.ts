/**
 * The Worker the `worker` workload runs in workerd: chatstore's Worker entry as a deployment
 * writes it (src/backends/cloudflare/index.ts), with the store's default options. Bundled by
 * bench/worker.ts.
 */
import { ConversationObject, chatstoreWorker, DirectoryObject } from '../src/backends/cloudflare/index.js';

export { ConversationObject, DirectoryObject };

export default chatstoreWorker();
