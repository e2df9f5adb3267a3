import type { DefinitionService } from '../../definitions/definition-service.js';

/** How long a flow's limit is trusted before it is read again (another process may have changed it). */
const TTL_MS = 5000;

/**
 * Each flow's `concurrency` limit, read from the definitions and cached briefly so a busy worker does
 * not read the flow on every claim. A change made in this process applies at once.
 */
export class FlowLimits {
  private readonly cache = new Map<string, { limit: number | undefined; at: number }>();

  constructor(private readonly definitions: DefinitionService) {
    definitions.onChange((c) => {
      if (c.kind === 'flow') this.cache.delete(c.name);
    });
  }

  async get(flow: string): Promise<number | undefined> {
    const hit = this.cache.get(flow);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.limit;
    const def = await this.definitions.find('flow', flow);
    const spec: unknown = def?.spec;
    const value: unknown =
      typeof spec === 'object' && spec !== null && 'concurrency' in spec ? spec.concurrency : undefined;
    const limit = typeof value === 'number' ? value : undefined;
    this.cache.set(flow, { limit, at: Date.now() });
    return limit;
  }
}
