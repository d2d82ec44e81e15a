/**
 * The postgres backend's change feed (`Backend.changeFeed`): `LISTEN` on the schema's channel, where
 * every change to messages is announced by a trigger in the transaction that makes it (schema
 * migration 4), so no committed change goes unannounced, whoever wrote it. The announcements name the
 * writing backend (`chatstore.origin`, which the backend sets on its connections once a feed is open),
 * so a feed skips its own backend's. A feed keeps one client of the pool checked out to listen on.
 * When that connection breaks, the feed is not live (a cache then serves nothing), tells its listener
 * `'*'` (anything may have changed meanwhile) and connects again, with a growing pause; once it
 * listens again it says `'*'` once more and is live.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChangeFeed, ChangeListener } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { PgContext } from './context.js';
import { toChatStoreError } from './errors.js';
import { ANNOUNCING_TRIGGERS, changeChannel, ident } from './schema.js';
import type { PgPoolClient } from './types.js';

/** PostgreSQL refuses a payload of 8,000 bytes or more; a longer list is sent as `'*'`. */
const MAX_PAYLOAD_BYTES = 7_900;
/** Pauses between attempts to listen again, in ms; the last one repeats. */
const RECONNECT_PAUSES_MS = [50, 100, 250, 500, 1_000, 2_000];

/** An announcement: which backend wrote (none: another tool), and which conversations changed (`*`: any). */
interface Payload {
  from: string | null;
  change: readonly string[] | '*';
}

/** A feed over the backend's pool (see the file comment). */
export function pgChangeFeed(ctx: PgContext): ChangeFeed {
  const channel = changeChannel(ctx.layout.schema);
  const self = ctx.origin.id;
  // From now on this backend's connections carry its origin, so that its announcements are known.
  ctx.origin.announced = true;
  let listener: ChangeListener | undefined;
  let current: { client: PgPoolClient; release(error?: Error): void } | undefined;
  let live = false;
  let closed = false;
  let reconnecting = false;

  const onNotification = (message: { channel: string; payload?: string }): void => {
    if (message.channel !== channel || message.payload === undefined) return;
    let payload: Payload;
    try {
      payload = JSON.parse(message.payload) as Payload;
    } catch {
      listener?.('*');
      return;
    }
    if (payload.from !== self) listener?.(payload.change);
  };

  /** Takes a client off the pool and listens on it; when its connection breaks, connects again. */
  const listen = async (): Promise<void> => {
    const taken = await ctx.pool.connect();
    const events = taken as unknown as NodeJS.EventEmitter;
    let released = false;
    const detach = (): void => {
      events.off('notification', onNotification);
      events.off('error', broken);
      events.off('end', ended);
    };
    const release = (error?: Error): void => {
      if (released) return;
      released = true;
      detach();
      taken.release(error);
    };
    function broken(error: Error): void {
      const wasCurrent = current?.client === taken;
      if (wasCurrent) current = undefined;
      release(error);
      if (!wasCurrent || closed) return;
      // Changes published from now until listening again are lost: nothing cached may be served.
      live = false;
      listener?.('*');
      void reconnect();
    }
    function ended(): void {
      broken(new Error('postgres: the listening connection ended'));
    }
    events.on('notification', onNotification);
    events.on('error', broken);
    events.on('end', ended);
    try {
      // Writes between the two are announced unheard: the '*' below, once live, covers them.
      await enableAnnouncements(taken);
      await taken.query(`LISTEN ${ident(channel)}`);
    } catch (error) {
      release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    if (released) throw new ChatStoreError('UNAVAILABLE', 'postgres: the listening connection broke');
    if (closed) {
      // Closed while this (re)connection was under way: give the client back, or the pool's end waits for it.
      release();
      return;
    }
    current = { client: taken, release };
    live = true;
    // Whatever was published before this point is unknown to this instance.
    listener?.('*');
  };

  /**
   * Turns the schema's announcing triggers on, once for the schema's life: from then on every
   * writer announces, whether or not it has a cache. Taking the table's lock waits for writes under
   * way, so that every write after this one is announced.
   */
  const enableAnnouncements = async (client: PgPoolClient): Promise<void> => {
    const disabled = await client.query(
      `SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = 'messages' AND t.tgname = ANY ($2) AND t.tgenabled = 'D'`,
      [ctx.layout.schema, ANNOUNCING_TRIGGERS],
    );
    if (disabled.rows.length === 0) return;
    const names = disabled.rows.map((row) => ident(String(row.tgname)));
    await client.query(
      `ALTER TABLE ${ident(ctx.layout.schema)}.messages ${names.map((name) => `ENABLE TRIGGER ${name}`).join(', ')}`,
    );
  };

  const reconnect = async (): Promise<void> => {
    if (reconnecting) return;
    reconnecting = true;
    try {
      for (let attempt = 0; !closed && !live; attempt++) {
        await sleep(RECONNECT_PAUSES_MS[Math.min(attempt, RECONNECT_PAUSES_MS.length - 1)] as number);
        if (closed) return;
        try {
          await listen();
        } catch {
          // Again after the next pause; the feed stays not live meanwhile.
        }
      }
    } finally {
      reconnecting = false;
    }
  };

  return {
    get live() {
      return live && !closed;
    },
    async subscribe(onChange) {
      ctx.ensureOpen();
      listener = onChange;
      try {
        await listen();
      } catch (error) {
        throw toChatStoreError(error);
      }
    },
    announcesWrites: true,
    async publish(change) {
      // For writes the trigger does not see (none of chatstore's own); same channel, same form.
      ctx.ensureOpen();
      let payload = JSON.stringify({ from: self, change } satisfies Payload);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) payload = JSON.stringify({ from: self, change: '*' });
      await ctx.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      if (closed) return;
      closed = true;
      live = false;
      const listening = current;
      current = undefined;
      if (listening === undefined) return;
      try {
        await listening.client.query(`UNLISTEN ${ident(channel)}`);
        listening.release();
      } catch (error) {
        listening.release(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}
