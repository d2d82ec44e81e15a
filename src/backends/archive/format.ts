/**
 * An archive file: one conversation as JSON Lines — its record (`{"conversation": …}`) first, then
 * its messages in seq order, one per line — the records `chatstore export` writes, so a
 * decompressed archive file can be read by `chatstore import` as it is. Compressed with gzip or
 * brotli at a set level, or stored plain.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants, gunzip, gzip } from 'node:zlib';
import { ChatStoreError } from '../../errors.js';
import type { Conversation, Message } from '../../model.js';

export const COMPRESSIONS = ['gzip', 'brotli', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** What one archive file holds. */
export interface ArchivedConversation {
  conversation: Conversation;
  messages: Message[];
}

const gzipped = promisify(gzip);
const gunzipped = promisify(gunzip);
const brotlied = promisify(brotliCompress);
const unbrotlied = promisify(brotliDecompress);

/** The file name ending of each compression. */
export function extensionOf(compression: Compression): string {
  return compression === 'gzip' ? '.jsonl.gz' : compression === 'brotli' ? '.jsonl.br' : '.jsonl';
}

/** The default level of each compression: gzip 6 (zlib's), brotli 5 (quality 11 is ~200× slower for ~10 % less). */
export function defaultLevel(compression: Compression): number {
  return compression === 'brotli' ? 5 : compression === 'gzip' ? 6 : 0;
}

/** The level a compression accepts: gzip 1–9, brotli 0–11. */
export function checkLevel(compression: Compression, level: number): number {
  const [low, high] = compression === 'brotli' ? [0, 11] : compression === 'gzip' ? [1, 9] : [0, 0];
  if (!Number.isSafeInteger(level) || level < low || level > high) {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      `compressionLevel for ${compression} must be an integer ${low}–${high}`,
      {
        path: 'compressionLevel',
      },
    );
  }
  return level;
}

/** The file's bytes: JSON Lines, compressed. */
export async function encodeArchive(
  content: ArchivedConversation,
  compression: Compression,
  level: number,
): Promise<Buffer> {
  const lines = [JSON.stringify({ conversation: content.conversation })];
  for (const message of content.messages) lines.push(JSON.stringify(message));
  const text = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  if (compression === 'gzip') return gzipped(text, { level });
  if (compression === 'brotli') {
    return brotlied(text, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: level,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: text.length,
      },
    });
  }
  return text;
}

/** The content of a file's bytes; UNAVAILABLE when they are not an archive of this format. */
export async function decodeArchive(
  bytes: Buffer,
  compression: Compression,
  file: string,
): Promise<ArchivedConversation> {
  let text: string;
  try {
    const plain =
      compression === 'gzip' ? await gunzipped(bytes) : compression === 'brotli' ? await unbrotlied(bytes) : bytes;
    text = plain.toString('utf8');
  } catch (cause) {
    throw new ChatStoreError('UNAVAILABLE', `archive file ${file} does not decompress`, { cause });
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  try {
    const [first, ...rest] = lines;
    const head = JSON.parse(first ?? 'null') as { conversation?: Conversation } | null;
    if (head?.conversation === undefined) throw new Error('the first line is not a conversation record');
    return { conversation: head.conversation, messages: rest.map((line) => JSON.parse(line) as Message) };
  } catch (cause) {
    throw new ChatStoreError('UNAVAILABLE', `archive file ${file} is not JSON Lines of a conversation`, { cause });
  }
}

/** Hex SHA-256 of bytes (the manifest's checksum of each file). */
export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
