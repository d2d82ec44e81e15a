/** stats: counts per conversation and for the whole store (docs/api.md). */
import { describe, expect, test } from 'vitest';
import type { Stats } from '../../src/model.js';
import { backends } from './backends.js';
import { atT0, freshStore } from './harness.js';

const EMPTY: Stats = {
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
  byChannel: {},
};

describe.each(backends)('stats on $name', (entry) => {
  test('counts by direction, media, commands, failures, deletions and role', async () => {
    const store = await freshStore(entry, { ...atT0, commands: { admin: ['ban'] } });
    expect(await store.stats()).toStrictEqual(EMPTY);

    const photo = { url: 'https://cdn.example/p.jpg', type: 'image' };
    await store.append('c1', [
      { role: 'user', content: '/help' },
      { role: 'user', content: '!ban spammer' },
      { id: 'will-fail', role: 'assistant', content: 'hello', status: 'sent' },
      { role: 'assistant', content: 'a photo', media: [photo], status: 'failed' },
      { role: 'user', content: '', media: [photo, photo] },
      { role: 'system', content: 'you are helpful' },
      { role: 'tool', content: '{"ok":true}' },
      { id: 'soft', role: 'user', content: '/stop', media: [photo] },
      { id: 'recovered', role: 'assistant', content: 'retry', status: 'failed' },
    ]);
    await store.updateStatus('will-fail', 'failed', { error: { message: 'undeliverable' } });
    await store.updateStatus('recovered', 'delivered');
    await store.delete('soft');
    await store.append('c2', [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: '/help' },
      { id: 'hard', role: 'user', content: '/help', status: 'failed' },
    ]);
    await store.delete('hard', { hard: true });

    const c1: Stats = {
      total: 8,
      incoming: 3,
      outgoing: 5,
      withMedia: 2,
      commands: 2,
      adminCommands: 1,
      failed: 2,
      deleted: 1,
      byRole: { user: 3, assistant: 3, system: 1, tool: 1 },
      conversations: 1,
      byChannel: {},
    };
    const c2: Stats = {
      ...EMPTY,
      total: 2,
      incoming: 1,
      outgoing: 1,
      byRole: { user: 1, assistant: 1, system: 0, tool: 0 },
      conversations: 1,
    };
    expect(await store.stats('c1')).toStrictEqual(c1);
    expect(await store.stats('c2')).toStrictEqual(c2);
    expect(await store.stats()).toStrictEqual({
      total: 10,
      incoming: 4,
      outgoing: 6,
      withMedia: 2,
      commands: 2,
      adminCommands: 1,
      failed: 2,
      deleted: 1,
      byRole: { user: 4, assistant: 4, system: 1, tool: 1 },
      conversations: 2,
      byChannel: {},
    });
    expect(await store.stats('nobody')).toStrictEqual(EMPTY);
  });
});
