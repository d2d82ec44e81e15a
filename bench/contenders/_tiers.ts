/** How the bench runs chatstore with the in-process tier in front of an engine (docs/tiers.md). */
import type { NotRun, WorkloadId } from '../contender.js';

/** The in-process tier as the bench runs it (docs/tiers.md): the defaults of the old system. */
export const L1_PARAMETERS = 'maxActiveConversations=1000&maxMessagesPerConversation=50';

/** What a tier passes to the engine unchanged: measured on the bare contender's row only. */
export const PASSED_THROUGH_BY_TIERS: Partial<Record<WorkloadId, NotRun>> = Object.fromEntries(
  (['W4', 'W5', 'W6', 'W1L'] as const).map((id) => [
    id,
    { status: 'skipped', reason: 'the tier passes this to the engine: see the bare row' },
  ]),
);
