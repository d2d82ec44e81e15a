/**
 * The seeded data every contender gets: the same messages, in the same order, for every engine and
 * every run. A message is a pure function of (conversation, index), so a million of them never
 * need to be in memory at once and a contender filled later sees exactly what an earlier one saw.
 */
import type { JsonObject, NewMessage } from '../src/model.js';

/** The seed of every run; change it only together with the results it invalidates. */
export const SEED = 20_260_101;

const BASE_TIME = Date.UTC(2026, 0, 1);
const VOCABULARY_SIZE = 4000;
const MIN_CONTENT = 50;
const MAX_CONTENT = 300;

/**
 * mulberry32: a tiny, fast, well-distributed 32-bit PRNG.
 * @example const random = prng(42); random(); // 0 ≤ x < 1
 */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a: turns a conversation id into part of a seed. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const SYLLABLES = ['ka', 'lo', 'mi', 're', 'tu', 'sa', 'ne', 'vi', 'po', 'da', 'shi', 'ber', 'gon', 'fa', 'zu', 'ril'];
const COMMON = [
  'the',
  'order',
  'refund',
  'please',
  'thanks',
  'hello',
  'delivery',
  'payment',
  'account',
  'help',
  'when',
  'where',
  'price',
  'today',
  'tomorrow',
  'address',
  'invoice',
  'support',
  'ticket',
  'photo',
];

/** Pseudo-words ranked by frequency: real-looking text with a Zipf distribution, like chat. */
const VOCABULARY: readonly string[] = (() => {
  const random = prng(SEED);
  const words = new Set<string>(COMMON);
  while (words.size < VOCABULARY_SIZE) {
    const length = 2 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < length; i++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
})();

/** Cumulative Zipf weights (s = 1) over VOCABULARY, for sampling a word by binary search. */
const CUMULATIVE: Float64Array = (() => {
  const weights = new Float64Array(VOCABULARY_SIZE);
  let sum = 0;
  for (let rank = 0; rank < VOCABULARY_SIZE; rank++) {
    sum += 1 / (rank + 1);
    weights[rank] = sum;
  }
  for (let rank = 0; rank < VOCABULARY_SIZE; rank++) weights[rank] = (weights[rank] ?? 0) / sum;
  return weights;
})();

function word(random: () => number): string {
  const target = random();
  let low = 0;
  let high = VOCABULARY_SIZE - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((CUMULATIVE[middle] ?? 1) < target) low = middle + 1;
    else high = middle;
  }
  return VOCABULARY[low] ?? 'the';
}

/** 50–300 characters of words, sentence-cased, cut at a word boundary. */
function content(random: () => number): string {
  const target = MIN_CONTENT + Math.floor(random() * (MAX_CONTENT - MIN_CONTENT + 1));
  let text = '';
  while (text.length < target) {
    const next = word(random);
    if (text.length + 1 + next.length > MAX_CONTENT) break;
    text += text === '' ? next[0]?.toUpperCase() + next.slice(1) : ` ${next}`;
    if (random() < 0.08 && text.length < target) text += '.';
  }
  while (text.length < MIN_CONTENT) text += ' ok';
  return text;
}

/**
 * Message `index` (0-based) of a conversation: alternating roles (even = the customer, odd = the
 * bot), about 1 in 5 with metadata, 1 in 20 with a media reference, 1 in 50 both.
 * @example const first = benchMessage('+15550001', 0); first.role === 'user';
 */
export function benchMessage(conversationId: string, index: number): NewMessage {
  const random = prng((hash(conversationId) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const incoming = index % 2 === 0;
  const message: NewMessage = {
    role: incoming ? 'user' : 'assistant',
    senderId: incoming ? `cust-${hash(conversationId).toString(36)}` : 'bot',
    content: content(random),
    createdAt: new Date(BASE_TIME + index * 30_000).toISOString(),
  };
  const roll = random();
  if (roll < 0.2) {
    const metadata: JsonObject = { provider: 'whatsapp', locale: random() < 0.5 ? 'es' : 'en' };
    if (incoming) metadata.phoneNumberId = '1055500000';
    message.metadata = metadata;
  }
  if (roll < 0.02 || roll > 0.97) {
    message.media = [
      {
        url: `https://cdn.example.com/media/${hash(conversationId).toString(36)}/${index}.jpg`,
        type: 'image',
        mimeType: 'image/jpeg',
        size: 20_000 + Math.floor(random() * 500_000),
      },
    ];
  }
  return message;
}

/**
 * Messages `from` … `from + count - 1` of a conversation.
 * @example const batch = benchMessages('c', 0, 1000);
 */
export function benchMessages(conversationId: string, from: number, count: number): NewMessage[] {
  const messages: NewMessage[] = new Array(count);
  for (let i = 0; i < count; i++) messages[i] = benchMessage(conversationId, from + i);
  return messages;
}

/**
 * Two-word queries of mid-frequency words (ranks 20–200): each word is in a few percent of the
 * messages, both together in a few per thousand, like a person searching their support history.
 * @example const [first] = searchQueries(10);
 */
export function searchQueries(count: number): string[] {
  const random = prng(SEED + 1);
  const queries: string[] = [];
  while (queries.length < count) {
    const a = VOCABULARY[20 + Math.floor(random() * 60)];
    const b = VOCABULARY[80 + Math.floor(random() * 120)];
    if (a !== undefined && b !== undefined && a !== b) queries.push(`${a} ${b}`);
  }
  return queries;
}
