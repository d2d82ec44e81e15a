/**
 * The in-process backend: everything in maps, nothing on disk. For tests and throwaway bots; it
 * keeps every guarantee of the conformance suite within one process. The shortest complete example
 * of the contract: `state.ts` (the maps and their helpers), `messages.ts`, `search.ts`,
 * `conversations.ts`, `maintenance.ts`.
 */
import type { Backend } from '../../backend.js';
import { conversationOperations } from './conversations.js';
import { maintenanceOperations } from './maintenance.js';
import { messageOperations } from './messages.js';
import { searchOperations } from './search.js';
import { memoryState } from './state.js';

/**
 * @example
 * import { ChatStore } from 'chatstore';
 * import { memoryBackend } from 'chatstore/memory';
 * const store = new ChatStore(memoryBackend());
 */
export function memoryBackend(): Backend {
  const state = memoryState();
  return {
    name: 'memory',
    ...messageOperations(state),
    ...searchOperations(state),
    ...conversationOperations(state),
    ...maintenanceOperations(state),
  };
}
