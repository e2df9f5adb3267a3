import type { Connector } from '../connectors/connector.js';
import type { FileRoots } from '../connectors/file-access.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { Logger } from '../core/logger.js';
import type { DefinitionService } from '../definitions/definition-service.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import { connectorConfig } from './connection-kind.js';

/**
 * One open connector (and so one connection pool) per connection, shared by every run. A changed or
 * deleted connection is closed and reopened on next use; runs never build pools of their own.
 * Each connector is given the file access its connection has: bounded by the file roots, or, when an
 * admin approved it outside them, by the data directory's own files only.
 */
export class ConnectorPool {
  private readonly open = new Map<string, { version: number; connector: Promise<Connector> }>();

  constructor(
    private readonly definitions: DefinitionService,
    private readonly dataDir: string,
    private readonly logger: Logger,
    private readonly types: ConnectorRegistry,
    private readonly formats: FormatRegistry,
    private readonly roots: FileRoots,
  ) {
    definitions.onChange(({ kind, name }) => {
      if (kind === 'connection') this.evict(name);
    });
  }

  async get(name: string): Promise<Connector> {
    const def = await this.definitions.resolve<Record<string, unknown>>('connection', name);
    const cached = this.open.get(name);
    if (cached && cached.version === def.version) return cached.connector;
    if (cached) this.evict(name);
    const { type, config } = connectorConfig(def.spec);
    const connector = Promise.resolve().then(() =>
      this.types.get(type).create(config, {
        dataDir: this.dataDir,
        formats: this.formats,
        files: this.roots.forConnection(def.approvedBy !== null),
      }),
    );
    this.open.set(name, { version: def.version, connector });
    connector.catch(() => this.open.delete(name));
    return connector;
  }

  private evict(name: string): void {
    const cached = this.open.get(name);
    if (!cached) return;
    this.open.delete(name);
    cached.connector
      .then((c) => c.close())
      .catch((err: unknown) => this.logger.warn({ err, connection: name }, 'closing a connection failed'));
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(all.map(async (c) => (await c.connector).close()));
  }
}
