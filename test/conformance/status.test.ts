/**
 * updateStatus: forward-only; `statusAt` keeps the time of the first report of each status (a retry
 * never moves it, a skipped status is never invented); found by id or externalId (invariant 4 in
 * docs/ARCHITECTURE.md).
 */
import { describe, expect, test } from 'vitest';
import type { Message, MessageStatus } from '../../src/model.js';
import { backends } from './backends.js';
import { atT0, expectError, freshStore, T0 } from './harness.js';

const SENT = '2026-01-02T03:05:00.000Z';
const DELIVERED = '2026-01-02T03:05:01.000Z';
const READ = '2026-01-02T03:05:02.000Z';
const FAILED = '2026-01-02T03:05:03.000Z';

describe.each(backends)('message status on $name', (entry) => {
  async function outgoing(status?: MessageStatus) {
    const store = await freshStore(entry, atT0);
    const [result] = await store.append('c1', {
      role: 'assistant',
      content: 'your order shipped',
      externalId: 'wamid.OUT',
      recipientId: '+15550001',
      ...(status === undefined ? {} : { status }),
    });
    return { store, message: result?.message as Message };
  }

  test('a status reported twice keeps its first reported time, whatever time the repeat names', async () => {
    const { store, message } = await outgoing();
    const delivered = await store.updateStatus('wamid.OUT', 'delivered', { at: DELIVERED });
    expect(delivered).toStrictEqual({ ...message, status: 'delivered', statusAt: { delivered: DELIVERED } });
    // A retry naming an earlier time, then a later one: the first report stays.
    expect(await store.updateStatus('wamid.OUT', 'delivered', { at: SENT })).toStrictEqual(delivered);
    expect(await store.updateStatus('wamid.OUT', 'delivered', { at: READ })).toStrictEqual(delivered);
    expect(await store.get(message.id)).toStrictEqual(delivered);
    // Read without delivered: only read is recorded, nothing is invented for the statuses skipped over.
    const [appended] = await store.append('c1', {
      role: 'assistant',
      content: 'and the invoice',
      recipientId: '+15550001',
    });
    const other = appended?.message as Message;
    const read = await store.updateStatus(other.id, 'read', { at: READ });
    expect(read).toStrictEqual({ ...other, status: 'read', statusAt: { read: READ } });
    expect(await store.updateStatus(other.id, 'read', { at: SENT })).toStrictEqual(read);
    expect(await store.get(other.id)).toStrictEqual(read);
  });

  test('read, sent, delivered arriving in that order: stays read with the time of each first report', async () => {
    const { store, message } = await outgoing();
    expect(await store.updateStatus('wamid.OUT', 'read', { at: READ })).toStrictEqual({
      ...message,
      status: 'read',
      statusAt: { read: READ },
    });
    expect(await store.updateStatus('wamid.OUT', 'sent', { at: SENT })).toStrictEqual({
      ...message,
      status: 'read',
      statusAt: { read: READ, sent: SENT },
    });
    const final = { ...message, status: 'read', statusAt: { read: READ, sent: SENT, delivered: DELIVERED } };
    expect(await store.updateStatus(message.id, 'delivered', { at: DELIVERED })).toStrictEqual(final);
    expect(await store.get(message.id)).toStrictEqual(final);
    expect(await store.recent('c1', 1)).toStrictEqual([final]);
  });

  test('the normal order moves forward; a repeated or late report changes nothing', async () => {
    const { store, message } = await outgoing('queued');
    expect(message).toStrictEqual({ ...message, status: 'queued', statusAt: { queued: T0 } });
    await store.updateStatus('wamid.OUT', 'sent', { at: SENT });
    expect(await store.updateStatus('wamid.OUT', 'delivered', { at: DELIVERED })).toStrictEqual({
      ...message,
      status: 'delivered',
      statusAt: { queued: T0, sent: SENT, delivered: DELIVERED },
    });
    const read = await store.updateStatus('wamid.OUT', 'read', { at: READ });
    const expected = {
      ...message,
      status: 'read',
      statusAt: { queued: T0, sent: SENT, delivered: DELIVERED, read: READ },
    };
    expect(read).toStrictEqual(expected);
    // A webhook retried later: the first report of each status wins.
    expect(await store.updateStatus('wamid.OUT', 'sent', { at: '2026-02-01T00:00:00Z' })).toStrictEqual(expected);
    expect(await store.updateStatus('wamid.OUT', 'delivered', { at: '2026-02-01T00:00:00Z' })).toStrictEqual(expected);
    expect(await store.updateStatus('wamid.OUT', 'read', { at: '2026-02-01T00:00:00Z' })).toStrictEqual(expected);
    expect(await store.updateStatus('wamid.OUT', 'queued')).toStrictEqual(expected);
    expect(await store.get(message.id)).toStrictEqual(expected);
  });

  test('failed stores the error; a later delivered proves delivery', async () => {
    const { store, message } = await outgoing('sent');
    const failed = await store.updateStatus('wamid.OUT', 'failed', {
      at: FAILED,
      error: { code: '131047', message: 'Re-engagement message' },
    });
    expect(failed).toStrictEqual({
      ...message,
      status: 'failed',
      statusAt: { sent: T0, failed: FAILED },
      error: { code: '131047', message: 'Re-engagement message' },
    });
    expect(await store.get(message.id)).toStrictEqual(failed);
    // A second failure report does not replace the first error.
    expect(
      await store.updateStatus('wamid.OUT', 'failed', { at: READ, error: { message: 'another reason' } }),
    ).toStrictEqual(failed);
    const delivered = await store.updateStatus('wamid.OUT', 'delivered', { at: DELIVERED });
    expect(delivered).toMatchObject({
      status: 'delivered',
      statusAt: { sent: T0, failed: FAILED, delivered: DELIVERED },
    });
    expect(await store.get(message.id)).toStrictEqual(delivered);
    expect((await store.updateStatus('wamid.OUT', 'read', { at: READ })).status).toBe('read');
  });

  test('failed then read moves to read; failed is otherwise terminal', async () => {
    const { store, message } = await outgoing();
    await store.updateStatus(message.id, 'failed', { at: FAILED, error: { message: 'timeout' } });
    expect((await store.updateStatus(message.id, 'sent', { at: SENT })).status).toBe('failed');
    expect((await store.updateStatus(message.id, 'queued', { at: SENT })).status).toBe('failed');
    const read = await store.updateStatus(message.id, 'read', { at: READ });
    expect(read).toMatchObject({ status: 'read', statusAt: { failed: FAILED, sent: SENT, queued: SENT, read: READ } });
  });

  test('delivered then failed stays delivered, keeping the failure time and no error', async () => {
    const { store, message } = await outgoing();
    await store.updateStatus('wamid.OUT', 'delivered', { at: DELIVERED });
    const after = await store.updateStatus('wamid.OUT', 'failed', { at: FAILED, error: { message: 'late failure' } });
    const expected = { ...message, status: 'delivered', statusAt: { delivered: DELIVERED, failed: FAILED } };
    expect(after).toStrictEqual(expected);
    expect(await store.get(message.id)).toStrictEqual(expected);
  });

  test('status reports racing each other end at read with every time kept', async () => {
    const { store, message } = await outgoing();
    const reports: [MessageStatus, string][] = [
      ['failed', FAILED],
      ['read', READ],
      ['sent', SENT],
      ['delivered', DELIVERED],
    ];
    await Promise.all(
      [...reports, ...[...reports].reverse()].map(([status, at]) => store.updateStatus(message.id, status, { at })),
    );
    const stored = (await store.get(message.id)) as Message;
    expect(stored.status).toBe('read');
    expect(stored.statusAt).toStrictEqual({ sent: SENT, delivered: DELIVERED, read: READ, failed: FAILED });
  });

  test('times given as Date, epoch ms or an offset string are stored as ISO UTC; default is now', async () => {
    const { store, message } = await outgoing();
    await store.updateStatus('wamid.OUT', 'sent', { at: new Date(SENT) });
    await store.updateStatus('wamid.OUT', 'delivered', { at: Date.parse(DELIVERED) });
    await store.updateStatus('wamid.OUT', 'read', { at: '2026-01-02T05:05:02+02:00' });
    expect(await store.updateStatus('wamid.OUT', 'failed')).toStrictEqual({
      ...message,
      status: 'read',
      statusAt: { sent: SENT, delivered: DELIVERED, read: READ, failed: T0 },
    });
  });

  test('found by id or by externalId, narrowed by conversation; unknown is NOT_FOUND', async () => {
    const { store, message } = await outgoing();
    const [other] = await store.append('c2', { role: 'assistant', content: 'x', externalId: 'wamid.OTHER' });
    expect((await store.updateStatus('wamid.OTHER', 'sent', { at: SENT })).id).toBe(other?.message.id);
    expect((await store.updateStatus(message.id, 'sent', { at: SENT, conversationId: 'c1' })).status).toBe('sent');
    expect((await store.updateStatus('wamid.OUT', 'delivered', { at: DELIVERED, conversationId: 'c1' })).status).toBe(
      'delivered',
    );
    await expectError(store.updateStatus('wamid.OUT', 'read', { conversationId: 'c2' }), 'NOT_FOUND');
    await expectError(store.updateStatus(message.id, 'read', { conversationId: 'c2' }), 'NOT_FOUND');
    await expectError(store.updateStatus('wamid.NOPE', 'read'), 'NOT_FOUND');
    expect((await store.get(message.id))?.status).toBe('delivered');
    expect(await store.get(other?.message.id as string)).toStrictEqual({
      ...other?.message,
      status: 'sent',
      statusAt: { sent: SENT },
    });
  });

  test('bad reports are INVALID_ARGUMENT and change nothing', async () => {
    const { store, message } = await outgoing();
    await expectError(store.updateStatus('wamid.OUT', 'seen' as MessageStatus), 'INVALID_ARGUMENT', 'status');
    await expectError(store.updateStatus('wamid.OUT', 'read', { at: 'yesterday' }), 'INVALID_ARGUMENT', 'at');
    await expectError(
      store.updateStatus('wamid.OUT', 'failed', { error: { code: 'x' } as never }),
      'INVALID_ARGUMENT',
      'error.message',
    );
    await expectError(store.updateStatus('', 'read'), 'INVALID_ARGUMENT', 'idOrExternalId');
    expect(await store.get(message.id)).toStrictEqual(message);
  });
});
