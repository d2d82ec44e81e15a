/**
 * Where a step sits in a BuilderBot flow, as something another process can read back. BuilderBot
 * names every step with a random `ref` (`key_<uuid>`, `ans_<uuid>`) when the flow is built, and its
 * `refSerialize` hashes the parent's ref, so neither survives a restart: a step saved by one process
 * names nothing in the next. Its position in the flow (`3`, or `3.1` inside a nested flow) does, as
 * long as the flow is the same; the flow's `version` (a hash of its shape) says whether it is.
 */
import { createHash } from 'node:crypto';
import { ChatStoreError } from '../../errors.js';

/** One step of a flow as `createFlow` serializes it (its `flowSerialize`): BuilderBot's own shape. */
export interface BuilderBotFlowStep {
  ref: string;
  keyword?: unknown;
  answer?: unknown;
  refSerialize?: string;
  options?: { capture?: unknown; idle?: unknown; nested?: unknown; [option: string]: unknown };
}

/** What `createFlow([...])` returns, typed by the part the database reads. */
export interface BuilderBotFlow {
  flowSerialize: readonly BuilderBotFlowStep[];
}

/** A ref or refSerialize of the flow, written as the position of its step. */
export type Position = { step: string } | { serial: string };

export interface FlowPositions {
  /** A hash of the flow's shape (positions, keywords, answers, captures): equal in every process running the same flow. */
  readonly version: string;
  /** The position of a ref or refSerialize of this flow; anything else (a random ref of a message) is kept as it is. */
  position(value: unknown): Position | undefined;
  /** This process's ref or refSerialize at a position, or undefined when the flow has no such step. */
  valueAt(position: Position): string | undefined;
  /** The step whose ref this is. */
  stepOf(ref: unknown): BuilderBotFlowStep | undefined;
}

export function flowPositions(flow: BuilderBotFlow): FlowPositions {
  const rows = (flow as Partial<BuilderBotFlow> | undefined)?.flowSerialize;
  if (!Array.isArray(rows) || !rows.every((row) => typeof row?.ref === 'string')) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      'flow: pass the flow createFlow() returned, the one given to createBot',
      {
        path: 'flow',
      },
    );
  }
  const steps = new Map<string, BuilderBotFlowStep>();
  const refs = new Map<string, string>();
  const serials = new Map<string, string>();
  const visit = (row: BuilderBotFlowStep, path: string): void => {
    steps.set(path, row);
    // A flow listed in createFlow and nested in another appears twice with one ref: the first position names it.
    if (!refs.has(row.ref)) refs.set(row.ref, path);
    if (typeof row.refSerialize === 'string' && !serials.has(row.refSerialize)) serials.set(row.refSerialize, path);
    const nested = row.options?.nested;
    if (!Array.isArray(nested)) return;
    for (const [index, child] of nested.entries()) visit(child as BuilderBotFlowStep, `${path}.${index}`);
  };
  for (const [index, row] of rows.entries()) visit(row, `${index}`);

  const shape = [...steps].map(([path, row]) => [
    path,
    typeof row.keyword === 'string' && refs.has(row.keyword) ? { step: refs.get(row.keyword) } : (row.keyword ?? null),
    row.answer ?? null,
    row.options?.capture ?? null,
    row.options?.idle ?? null,
  ]);
  const version = createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 32);

  return {
    version,
    position(value) {
      if (typeof value !== 'string') return undefined;
      const step = refs.get(value);
      if (step !== undefined) return { step };
      const serial = serials.get(value);
      return serial === undefined ? undefined : { serial };
    },
    valueAt(position) {
      if ('step' in position) return steps.get(position.step)?.ref;
      return steps.get(position.serial)?.refSerialize;
    },
    stepOf(ref) {
      if (typeof ref !== 'string') return undefined;
      const path = refs.get(ref);
      return path === undefined ? undefined : steps.get(path);
    },
  };
}
