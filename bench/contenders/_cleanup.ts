/**
 * Contenders on server engines keep their data in a workspace of their own (a schema, a database,
 * a key prefix); this removes it when an instance closes, or when opening fails half-way.
 */
import type { Contender, ContenderInstance, Workspace } from '../contender.js';

/** @example cleaningUp(chatstoreContender({ … }), (workspace) => dropBenchSchema(benchSchema(workspace))) */
export function cleaningUp(contender: Contender, cleanup: (workspace: Workspace) => Promise<void>): Contender {
  return {
    ...contender,
    async open(workspace): Promise<ContenderInstance> {
      let instance: ContenderInstance;
      try {
        instance = await contender.open(workspace);
      } catch (error) {
        await cleanup(workspace);
        throw error;
      }
      return {
        ...instance,
        async close() {
          try {
            await instance.close();
          } finally {
            await cleanup(workspace);
          }
        },
      };
    },
  };
}
