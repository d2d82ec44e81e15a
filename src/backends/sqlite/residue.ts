/**
 * Finds bytes of erased strings that SQLite left in the database file outside its live data.
 *
 * `secure_delete` zeroes a deleted cell and every freed page, but not the copies of cells that
 * b-tree rebalancing left behind earlier: when SQLite rebuilds a page (a split, a merge, a row that
 * grew), cells that move to a sibling page stay as they were in the old page's unused area. Such a
 * stale copy of a row outlives the row: zeroing the row zeroes only its live copy. The scan reads
 * the file (after the WAL has been checkpointed into it) and looks in the parts of each page that
 * hold no live data (the gap between a b-tree page's cell pointers and its cells, its freeblocks,
 * free pages) for the strings of the erased rows. A string found there that no live data holds
 * too is a residue (a string the live data holds as well reveals nothing the store does not show).
 *
 * Pages are classified by the SQLite file format (https://www.sqlite.org/fileformat2.html): free
 * pages by walking the freelist, b-tree pages by their type byte, every other page (overflow
 * pages) counted as live.
 */
import { open } from 'node:fs/promises';
import { searchTerms, utf8Length } from '../../text.js';

/** Strings shorter than this many bytes are not looked for: they are in any file. */
const MIN_BYTES = 4;
/** Longer strings are looked for as overlapping windows, so that a partial copy is found too. */
const WHOLE_BYTES = 48;
const WINDOW_BYTES = 32;
const WINDOW_STEP = 16;
/** Pages read at once: a few milliseconds of scanning between two turns of the event loop. */
const CHUNK_PAGES = 256;
/** Fields of a message whose values are the model's words or times, not anyone's data. */
const MODEL_FIELDS = new Set(['role', 'direction', 'status', 'statusAt', 'createdAt', 'editedAt', 'deletedAt']);
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The strings one erasure removes, from which the byte patterns the scan looks for are made. */
export class ErasedText {
  readonly #strings = new Set<string>();
  /** Those that are search terms: still in the live data when the search index still has them. */
  readonly #terms = new Set<string>();

  get size(): number {
    return this.#strings.size;
  }

  /** A stored message (its JSON body): its strings, and the search terms of its content. */
  addMessage(body: string): void {
    const message = JSON.parse(body) as Record<string, unknown>;
    for (const [field, value] of Object.entries(message)) if (!MODEL_FIELDS.has(field)) this.addJson(value, 1);
    if (typeof message.content === 'string') {
      for (const term of searchTerms(message.content)) this.#add(term, true);
    }
  }

  /** Every string of a JSON value, object keys below the top level included. */
  addJson(value: unknown, depth = 0): void {
    if (typeof value === 'string') this.addText(value);
    else if (Array.isArray(value)) for (const item of value) this.addJson(item, depth + 1);
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (depth > 0) this.addText(key);
        this.addJson(item, depth + 1);
      }
    }
  }

  /**
   * One string; and when it is text (it has spaces), its words: a copy cut short by later writes is
   * found by what is left of it.
   */
  addText(text: string | null | undefined): void {
    if (text === null || text === undefined || TIMESTAMP.test(text)) return;
    this.#add(text, false);
    if (!/\s/u.test(text)) return;
    for (const word of text.split(/[^\p{L}\p{N}]+/u)) {
      if (word !== text) this.#add(word, searchTerms(word).join(' ') === word);
    }
  }

  /**
   * The byte patterns to look for: each string as a column stores it and as stored JSON escapes it,
   * long ones as overlapping windows; search terms that the index still has (`isLive`) are left out.
   */
  patterns(isLive: (term: string) => boolean): Buffer[] {
    const patterns = new Map<string, Buffer>();
    const add = (bytes: Buffer): void => {
      patterns.set(bytes.toString('latin1'), bytes);
    };
    for (const text of this.#strings) {
      if (this.#terms.has(text) && isLive(text)) continue;
      for (const form of new Set([text, JSON.stringify(text).slice(1, -1)])) {
        const bytes = Buffer.from(form, 'utf8');
        if (bytes.length <= WHOLE_BYTES) add(bytes);
        else {
          for (let start = 0; start + WINDOW_BYTES <= bytes.length; start += WINDOW_STEP) {
            add(bytes.subarray(start, start + WINDOW_BYTES));
          }
          add(bytes.subarray(bytes.length - WINDOW_BYTES));
        }
      }
    }
    return [...patterns.values()];
  }

  #add(text: string, term: boolean): void {
    if (utf8Length(text) < MIN_BYTES) return;
    this.#strings.add(text);
    if (term) this.#terms.add(text);
  }
}

/** A byte range `[start, end)` of one page. */
type Range = readonly [number, number];

/** The file's layout, from its 100-byte header. */
interface Layout {
  pageSize: number;
  usableSize: number;
  pageCount: number;
  /** 1 for every page of the freelist (trunk or leaf). */
  free: Uint8Array;
}

/** True when the file holds, outside its live data, one of `patterns` that no live data holds. */
export async function hasResidue(path: string, patterns: readonly Buffer[]): Promise<boolean> {
  if (patterns.length === 0) return false;
  const file = await open(path, 'r');
  try {
    const layout = await readLayout(file);
    if (layout === undefined) return false;
    const matcher = new Matcher(patterns);
    const found = new Set<number>();
    const unused: Range[][] = [];
    await eachChunk(file, layout, (chunk, firstPage) => {
      for (let i = 0; (i + 1) * layout.pageSize <= chunk.length; i++) {
        const page = chunk.subarray(i * layout.pageSize, (i + 1) * layout.pageSize);
        const ranges = unusedRanges(page, firstPage + i, layout);
        unused[firstPage + i] = ranges;
        for (const [start, end] of ranges) matcher.scan(page, start, end, found);
      }
    });
    if (found.size === 0) return false;
    // Which of them the live data holds as well: the first such occurrence settles it.
    const candidates = new Set([...found].map((index) => patterns[index] as Buffer));
    const inUnused = (at: number, firstPage: number): boolean => {
      const pageNumber = firstPage + Math.floor(at / layout.pageSize);
      const offset = at % layout.pageSize;
      return (unused[pageNumber] ?? []).some(([start, end]) => offset >= start && offset < end);
    };
    await eachChunk(
      file,
      layout,
      (chunk, firstPage) => {
        for (const pattern of candidates) {
          for (let at = chunk.indexOf(pattern); at !== -1; at = chunk.indexOf(pattern, at + 1)) {
            if (!inUnused(at, firstPage)) {
              candidates.delete(pattern);
              break;
            }
          }
        }
      },
      () => candidates.size === 0,
    );
    return candidates.size > 0;
  } finally {
    await file.close();
  }
}

type FileHandle = Awaited<ReturnType<typeof open>>;

async function readLayout(file: FileHandle): Promise<Layout | undefined> {
  const header = Buffer.alloc(100);
  const { bytesRead } = await file.read(header, 0, 100, 0);
  if (bytesRead < 100 || header.toString('latin1', 0, 15) !== 'SQLite format 3') return undefined;
  const pageSize = header.readUInt16BE(16) === 1 ? 65_536 : header.readUInt16BE(16);
  const usableSize = pageSize - (header[20] as number);
  const pageCount = Math.floor((await file.stat()).size / pageSize);
  const free = new Uint8Array(pageCount + 1);
  const trunk = Buffer.alloc(pageSize);
  for (let page = header.readUInt32BE(32); page > 0 && page <= pageCount && free[page] === 0; ) {
    free[page] = 1;
    await file.read(trunk, 0, pageSize, (page - 1) * pageSize);
    const leaves = Math.min(trunk.readUInt32BE(4), usableSize / 4 - 2);
    for (let i = 0; i < leaves; i++) {
      const leaf = trunk.readUInt32BE(8 + 4 * i);
      if (leaf > 0 && leaf <= pageCount) free[leaf] = 1;
    }
    page = trunk.readUInt32BE(0);
  }
  return { pageSize, usableSize, pageCount, free };
}

/** Calls `visit` with the file's pages, many at once (`firstPage` is the number of the first), until `done()`. */
async function eachChunk(
  file: FileHandle,
  { pageSize, pageCount }: Layout,
  visit: (chunk: Buffer, firstPage: number) => void,
  done: () => boolean = () => false,
): Promise<void> {
  const buffer = Buffer.alloc(CHUNK_PAGES * pageSize);
  for (let first = 1; first <= pageCount && !done(); first += CHUNK_PAGES) {
    const { bytesRead } = await file.read(buffer, 0, buffer.length, (first - 1) * pageSize);
    visit(buffer.subarray(0, bytesRead - (bytesRead % pageSize)), first);
  }
}

const BTREE_PAGE_TYPES = new Set([2, 5, 10, 13]);

/** The ranges of a page that hold no live data: all of a free page; a b-tree page's gap and freeblocks. */
function unusedRanges(page: Buffer, pageNumber: number, { usableSize, free }: Layout): Range[] {
  if (free[pageNumber] === 1) return [[0, usableSize]];
  const header = pageNumber === 1 ? 100 : 0;
  const type = page[header] as number;
  // Anything else is an overflow page (or the lock-byte page): live, or zeroed when it was freed.
  if (!BTREE_PAGE_TYPES.has(type)) return [];
  const cells = page.readUInt16BE(header + 3);
  const content = page.readUInt16BE(header + 5) || 65_536;
  const pointersEnd = header + (type === 2 || type === 5 ? 12 : 8) + 2 * cells;
  const ranges: Range[] = [];
  if (pointersEnd < content) ranges.push([pointersEnd, Math.min(content, usableSize)]);
  // Freeblocks: a chain in ascending order, each starting with (next, size).
  for (let block = page.readUInt16BE(header + 1); block > 0 && block + 4 <= usableSize; ) {
    ranges.push([block, Math.min(block + page.readUInt16BE(block + 2), usableSize)]);
    const next = page.readUInt16BE(block);
    if (next <= block) break;
    block = next;
  }
  return ranges;
}

/** Finds many byte patterns (of at least MIN_BYTES bytes) in one pass over a range. */
class Matcher {
  readonly #patterns: readonly Buffer[];
  /** A bit per value of a pattern's first three bytes: most positions are rejected by one lookup. */
  readonly #firstThree = new Uint8Array(1 << 21);
  /** The patterns by their first four bytes. */
  readonly #byFirstFour = new Map<number, number[]>();

  constructor(patterns: readonly Buffer[]) {
    this.#patterns = patterns;
    patterns.forEach((pattern, index) => {
      const three = prefix3(pattern, 0);
      this.#firstThree[three >>> 3] = (this.#firstThree[three >>> 3] as number) | (1 << (three & 7));
      const four = three * 256 + (pattern[3] as number);
      const list = this.#byFirstFour.get(four);
      if (list === undefined) this.#byFirstFour.set(four, [index]);
      else list.push(index);
    });
  }

  /** Adds to `found` the index of every pattern that occurs within `[start, end)` of `bytes`. */
  scan(bytes: Buffer, start: number, end: number, found: Set<number>): void {
    const firstThree = this.#firstThree;
    for (let at = start; at + MIN_BYTES <= end; at++) {
      const three = ((bytes[at] as number) << 16) | ((bytes[at + 1] as number) << 8) | (bytes[at + 2] as number);
      if (((firstThree[three >>> 3] as number) & (1 << (three & 7))) === 0) continue;
      const list = this.#byFirstFour.get(three * 256 + (bytes[at + 3] as number));
      if (list === undefined) continue;
      for (const index of list) {
        const pattern = this.#patterns[index] as Buffer;
        if (
          !found.has(index) &&
          at + pattern.length <= end &&
          bytes.compare(pattern, 0, pattern.length, at, at + pattern.length) === 0
        ) {
          found.add(index);
        }
      }
    }
  }
}

function prefix3(bytes: Buffer, at: number): number {
  return ((bytes[at] as number) << 16) | ((bytes[at + 1] as number) << 8) | (bytes[at + 2] as number);
}
