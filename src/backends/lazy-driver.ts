/**
 * Every backend's driver is an optional peer dependency, imported on first use and once per process,
 * so that a store never needs the drivers of other engines. A missing driver is `MISSING_DRIVER`
 * naming what to install; a failed import is forgotten, so the next call retries (the driver may
 * have been installed meanwhile).
 */
import { ChatStoreError } from '../errors.js';

/** A loader that imports the driver once and shares the promise. */
export function lazyDriver<T>(load: () => Promise<T>, missingMessage: string): () => Promise<T> {
  let driver: Promise<T> | undefined;
  return () => {
    driver ??= load().catch((cause: unknown) => {
      driver = undefined;
      if (isModuleNotFound(cause)) throw new ChatStoreError('MISSING_DRIVER', missingMessage, { cause });
      throw cause;
    });
    return driver;
  };
}

/** True when a dynamic `import()` failed because the package is not installed. */
export function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
