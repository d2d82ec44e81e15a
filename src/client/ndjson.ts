/** The client's reading of a streamed NDJSON response (the exports): a record per line, as it arrives. */
import { ChatStoreError } from '../errors.js';

/** The lines of an NDJSON body as they arrive, never the whole body at once. */
export async function* ndjson<T>(response: Response): AsyncGenerator<T> {
  const body = response.body;
  if (body === null) return;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        read = await reader.read();
      } catch (cause) {
        throw new ChatStoreError('UNAVAILABLE', 'the export stream broke off', { cause });
      }
      if (read.done) break;
      buffered += decoder.decode(read.value, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line !== '') yield JSON.parse(line) as T;
    }
    buffered += decoder.decode();
    if (buffered.trim() !== '') yield JSON.parse(buffered) as T;
  } finally {
    await reader.cancel().catch(() => {});
  }
}
