/**
 * Conversation bookkeeping every engine keeps alike (invariant 6): which calls move `updatedAt`, and
 * what a hard delete of one message changes in the conversation's counters.
 */
import { describe, expect, test } from 'vitest';
import { backends } from './backends.js';
import { freshStore, T0, tickingClock } from './harness.js';

const at = (second: number): string => new Date(Date.parse(T0) + second * 1000).toISOString();

describe.each(backends)('conversation bookkeeping on $name', (entry) => {
  test('participant and conversation changes set updatedAt to now, even when nothing changed', async () => {
    // The ticking clock reads T0, T0+1s, … once per store call that needs a time.
    const store = await freshStore(entry, { now: tickingClock() });
    await store.append('c1', { role: 'user', content: 'hi', senderId: 'u1' }); // T0
    const steps: [string, () => Promise<unknown>][] = [
      ['addParticipants, new', () => store.addParticipants('c1', [{ id: 'u2', kind: 'human' }])],
      ['addParticipants, present', () => store.addParticipants('c1', [{ id: 'u2', kind: 'human' }])],
      ['removeParticipant, present', () => store.removeParticipant('c1', 'u2')],
      ['removeParticipant, absent', () => store.removeParticipant('c1', 'u2')],
      ['updateConversation', () => store.updateConversation('c1', { metadata: { plan: 'pro' } })],
      ['updateConversation, same', () => store.updateConversation('c1', { metadata: { plan: 'pro' } })],
    ];
    for (const [index, [name, step]] of steps.entries()) {
      await step();
      expect((await store.getConversation('c1'))?.updatedAt, name).toBe(at(index + 1));
    }
  });

  test('a hard delete of one message changes messageCount only: lastSeq, lastMessageAt and updatedAt stay', async () => {
    const store = await freshStore(entry, { now: tickingClock() });
    const [, second] = await store.append('c1', [
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'two' },
    ]);
    const before = await store.getConversation('c1');
    expect(await store.delete(second?.message.id ?? '', { hard: true })).toBe(true);
    expect(await store.getConversation('c1')).toStrictEqual({ ...before, messageCount: 1 });
  });
});
