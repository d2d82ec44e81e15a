/** Stats with every count at zero: where an engine that counts in code starts. */
import type { Stats } from '../model.js';

export function emptyStats(): Stats {
  return {
    total: 0,
    incoming: 0,
    outgoing: 0,
    withMedia: 0,
    commands: 0,
    adminCommands: 0,
    failed: 0,
    deleted: 0,
    byRole: { user: 0, assistant: 0, system: 0, tool: 0 },
    conversations: 0,
  };
}
