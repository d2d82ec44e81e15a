/**
 * Opaque cursors, encoded and checked in one place. A cursor is base64url JSON with a kind tag; a
 * cursor of the wrong kind, for another conversation, or tampered with is `INVALID_ARGUMENT`.
 */
import type { ConversationPosition, SearchPosition } from './backend.js';
import { ChatStoreError } from './errors.js';

/** Where a message page resumes. */
export interface PageCursor {
  kind: 'page';
  conversationId: string;
  order: 'asc' | 'desc';
  seq: number;
}

export interface SearchCursor {
  kind: 'search';
  position: SearchPosition;
}

export interface ConversationsCursor {
  kind: 'conversations';
  position: ConversationPosition;
}

export type Cursor = PageCursor | SearchCursor | ConversationsCursor;

export function encodeCursor(cursor: Cursor): string {
  const compact =
    cursor.kind === 'page'
      ? ['p', cursor.conversationId, cursor.order, cursor.seq]
      : cursor.kind === 'search'
        ? ['s', cursor.position.score, cursor.position.id]
        : ['c', cursor.position.activityAt, cursor.position.id];
  return base64UrlEncode(JSON.stringify(compact));
}

export function decodeCursor<K extends Cursor['kind']>(text: string, kind: K): Extract<Cursor, { kind: K }> {
  const cursor = parse(text);
  if (cursor === undefined || cursor.kind !== kind) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'cursor is not valid here', { path: 'cursor' });
  }
  return cursor as Extract<Cursor, { kind: K }>;
}

function parse(text: string): Cursor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(base64UrlDecode(text));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const [tag, a, b, c] = value as unknown[];
  if (tag === 'p' && typeof a === 'string' && (b === 'asc' || b === 'desc') && isSeq(c)) {
    return { kind: 'page', conversationId: a, order: b, seq: c };
  }
  if (tag === 's' && typeof a === 'number' && Number.isFinite(a) && typeof b === 'string') {
    return { kind: 'search', position: { score: a, id: b } };
  }
  if (tag === 'c' && typeof a === 'string' && typeof b === 'string') {
    return { kind: 'conversations', position: { activityAt: a, id: b } };
  }
  return undefined;
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function base64UrlEncode(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlDecode(text: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}
