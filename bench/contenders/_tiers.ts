/** How the bench runs chatstore with the tiers in front of an engine (docs/tiers.md). */
import type { Contender, NotRun, WorkloadId, Workspace } from '../contender.js';
import { cleaningUp } from './_cleanup.js';
import { connectRedis, DEFAULT_REDIS_URL, deletePrefix } from './_redis.js';

/** The in-process tier as the bench runs it (docs/tiers.md): the defaults of the old system. */
export const L1_PARAMETERS = 'maxActiveConversations=1000&maxMessagesPerConversation=50';

/** What a tier passes to the engine unchanged: measured on the bare contender's row only. */
export const PASSED_THROUGH_BY_TIERS: Partial<Record<WorkloadId, NotRun>> = Object.fromEntries(
  (['W4', 'W5', 'W6', 'W1L'] as const).map((id) => [
    id,
    { status: 'skipped', reason: 'the tier passes this to the engine: see the bare row' },
  ]),
);

/** The Redis of the shared tier (L2): `REDIS_URL`, else the bench's own database. */
export const SHARED_TAILS_REDIS_URL = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;

/** The store-URL parameters of the shared tier (L2) for a workspace: its keys under the workspace's prefix. */
export function sharedTailsParameters(workspace: Workspace): string {
  return `cacheUrl=${encodeURIComponent(SHARED_TAILS_REDIS_URL)}&cachePrefix=${encodeURIComponent(workspace.keyPrefix)}`;
}

/** A contender with the shared tier: its Redis keys go with its workspace. */
export function dropsSharedTailsOnClose(contender: Contender): Contender {
  return cleaningUp(contender, async (workspace) => {
    const redis = await connectRedis(SHARED_TAILS_REDIS_URL);
    try {
      await deletePrefix(redis, workspace.keyPrefix);
    } finally {
      redis.disconnect();
    }
  });
}
