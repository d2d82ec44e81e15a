/**
 * W2: writers appending concurrently into ONE conversation, then spread over many, each round read back:
 * acknowledged messages missing (lost), stored more than once (duplicated), and stored out of
 * their writer's order (misordered).
 */
import type { NewMessage } from '../../src/model.js';
import type { Contender, ContenderInstance, ReadMessage } from '../contender.js';
import { benchMessage } from '../data.js';
import { now } from '../harness.js';
import { capText, deadlineFor, type Row, type Workload } from '../workload.js';

/** Counts of what went wrong, from what a writer was told and what the store holds. */
export interface ConcurrencyCheck {
  stored: number;
  lost: number;
  duplicated: number;
  misordered: number;
}

/**
 * Compares the acknowledged `${writer}:${n}` keys with the stored messages (in seq order).
 * @example checkConcurrentWrites(new Set(['0:0']), stored)
 */
export function checkConcurrentWrites(acknowledged: ReadonlySet<string>, stored: ReadMessage[]): ConcurrencyCheck {
  const seen = new Map<string, number>();
  const lastOfWriter = new Map<number, number>();
  let misordered = 0;
  for (const message of [...stored].sort((a, b) => a.seq - b.seq)) {
    const writer = Number(message.metadata?.writer);
    const n = Number(message.metadata?.n);
    const key = `${writer}:${n}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const previous = lastOfWriter.get(writer);
    if (previous !== undefined && n < previous) misordered += 1;
    else lastOfWriter.set(writer, n);
  }
  let lost = 0;
  for (const key of acknowledged) if (!seen.has(key)) lost += 1;
  let duplicated = 0;
  for (const copies of seen.values()) duplicated += copies - 1;
  return { stored: stored.length, lost, duplicated, misordered };
}

function tagged(writer: number, n: number, perWriter: number): NewMessage {
  const message = benchMessage('w2', writer * perWriter + n);
  return { ...message, metadata: { ...message.metadata, writer, n } };
}

/** @example const rows = await w2Concurrent.run(contender, context); */
export const w2Concurrent: Workload = {
  id: 'W2',
  title: 'W2 concurrent writers: into one conversation, then spread over many',
  method: (sizes) =>
    `${sizes.w2Writers} writers in this process, each appending ${sizes.w2PerWriter} messages one at a time (awaiting each), all into ONE conversation; then the same writers again on fresh storage, message k going to conversation k mod ${sizes.w2SpreadConversations}; before each round a warm-up of ${sizes.w2Writers}×20 appends, one writer after the other, goes to another conversation first. msg/s = acknowledged appends / wall time. Then the conversations are read back: lost = acknowledged but not stored, duplicated = extra stored copies, misordered = stored before an earlier message of the same writer.`,
  columns: [
    { key: 'conversations', label: 'conversations' },
    { key: 'acked', label: 'acked' },
    { key: 'msgPerSec', label: 'msg/s' },
    { key: 'stored', label: 'stored' },
    { key: 'lost', label: 'lost' },
    { key: 'duplicated', label: 'duplicated' },
    { key: 'misordered', label: 'misordered' },
    { key: 'failed', label: 'failed calls' },
  ],
  async run(contender, context) {
    const { w2Writers: writers, w2PerWriter: perWriter, w2SpreadConversations: spread } = context.sizes;
    const rows: WorkloadRow[] = [];
    // ONE conversation: every append waits for the one before it there (the hard case), then the
    // same writers spread over many conversations (appends that need not wait for each other).
    for (const conversations of [1, spread]) {
      const { instance, dispose } = await context.open(contender);
      try {
        rows.push(await round(instance, contender, { writers, perWriter, conversations }));
      } finally {
        await dispose();
      }
    }
    return rows;
  },
};

type WorkloadRow = Omit<Row, 'contender' | 'durability'>;

/** One measured round of `writers` × `perWriter` appends over `conversations` conversations. */
async function round(
  instance: ContenderInstance,
  contender: Contender,
  shape: { writers: number; perWriter: number; conversations: number },
): Promise<WorkloadRow> {
  const { writers, perWriter, conversations } = shape;
  // Message n of writer w goes to one conversation; with one conversation, all into 'w2'.
  const conversationOf = (writer: number, n: number): string =>
    conversations === 1 ? 'w2' : `w2-${(writer * perWriter + n) % conversations}`;
  const writersRange = Array.from({ length: writers }, (_, writer) => writer);
  // Sequential, so that a design that breaks under concurrency breaks in the measured round.
  for (const writer of writersRange) {
    for (let n = 0; n < Math.min(20, perWriter); n++) {
      await instance.append('w2-warmup', tagged(writer, n, perWriter));
    }
  }
  const deadline = deadlineFor(contender);
  const acknowledged = new Map<string, Set<string>>();
  let acked = 0;
  let failed = 0;
  let firstError: unknown;
  let capped = false;
  const started = now();
  await Promise.all(
    writersRange.map(async (writer) => {
      for (let n = 0; n < perWriter; n++) {
        if (now() > deadline) {
          capped = true;
          return;
        }
        const conversation = conversationOf(writer, n);
        try {
          await instance.append(conversation, tagged(writer, n, perWriter));
          const keys = acknowledged.get(conversation) ?? new Set<string>();
          acknowledged.set(conversation, keys.add(`${writer}:${n}`));
          acked += 1;
        } catch (error) {
          failed += 1;
          firstError ??= error;
        }
      }
    }),
  );
  const elapsed = now() - started;
  const notes: string[] = [];
  if (capped) notes.push(`capped at ${capText(contender)}`);
  if (failed > 0) notes.push(`${failed} appends failed, first: ${message(firstError)}`);
  let check: ConcurrencyCheck | undefined;
  try {
    const total: ConcurrencyCheck = { stored: 0, lost: 0, duplicated: 0, misordered: 0 };
    for (const [conversation, keys] of acknowledged) {
      const one = checkConcurrentWrites(keys, await instance.readAll(conversation));
      total.stored += one.stored;
      total.lost += one.lost;
      total.duplicated += one.duplicated;
      total.misordered += one.misordered;
    }
    check = total;
  } catch (error) {
    notes.push(`unreadable after the run (${message(error)}): every acknowledged message counted lost`);
  }
  return {
    status: capped ? 'capped' : 'ok',
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    cells: {
      conversations,
      acked,
      msgPerSec: (acked / elapsed) * 1000,
      stored: check?.stored ?? null,
      lost: check?.lost ?? acked,
      duplicated: check?.duplicated ?? null,
      misordered: check?.misordered ?? null,
      failed,
    },
  };
}

function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
