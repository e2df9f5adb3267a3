import { Value } from '@sinclair/typebox/value';
import type { Logger } from '../core/logger.js';
import type { DefinitionService } from '../definitions/definition-service.js';
import type { ListenerSpec, listenerSchema } from './listener-schema.js';
import { matchPath, type PathPattern, parsePathPattern } from './path-pattern.js';

export interface CompiledListener {
  name: string;
  spec: ListenerSpec;
  pattern: PathPattern;
}

export interface ListenerMatch {
  listener: CompiledListener;
  params: Record<string, string>;
}

/** How long another process's change to a listener may take to show here. */
const REFRESH_MS = 5000;

/**
 * Finds the listener for a request path. Listeners are loaded once and reloaded when one changes here
 * (or every few seconds, for changes made by other processes); the most specific pattern wins.
 */
export class ListenerRouter {
  private listeners: CompiledListener[] | undefined;
  private loadedAt = 0;
  private loading: Promise<CompiledListener[]> | undefined;

  constructor(
    private readonly definitions: DefinitionService,
    private readonly logger: Logger,
    /** The listener schema of this server's registries: a stored listener must still match it. */
    private readonly schema: ReturnType<typeof listenerSchema>,
  ) {
    definitions.onChange((change) => {
      if (change.kind === 'listener') this.listeners = undefined;
    });
  }

  async match(path: string): Promise<ListenerMatch | undefined> {
    const parts = splitPath(path);
    if (!parts) return undefined;
    for (const listener of await this.all()) {
      const params = matchPath(listener.pattern, parts);
      if (params) return { listener, params };
    }
    return undefined;
  }

  async all(): Promise<CompiledListener[]> {
    if (this.listeners && Date.now() - this.loadedAt < REFRESH_MS) return this.listeners;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<CompiledListener[]> {
    const loaded: CompiledListener[] = [];
    for (const d of await this.definitions.list('listener')) {
      try {
        const spec = Value.Default(this.schema, structuredClone(d.spec));
        if (!Value.Check(this.schema, spec)) throw new Error('stored spec does not match the schema');
        if (spec.auth === 'none' && !this.listeners?.some((l) => l.name === d.name))
          this.logger.warn(
            { listener: d.name },
            'listener accepts calls without authentication (auth: none)',
          );
        loaded.push({ name: d.name, spec, pattern: parsePathPattern(spec.path) });
      } catch (err) {
        this.logger.error({ err, listener: d.name }, 'listener definition skipped');
      }
    }
    loaded.sort((a, b) => b.pattern.specificity - a.pattern.specificity);
    this.listeners = loaded;
    this.loadedAt = Date.now();
    return loaded;
  }
}

/** Splits and percent-decodes a request path; undefined when a segment is not valid UTF-8 escapes. */
function splitPath(path: string): string[] | undefined {
  try {
    return path
      .replace(/^\/+|\/+$/g, '')
      .split('/')
      .map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
}
