/**
 * The HTTP API connection type: a base URL with its auth, TLS settings, timeouts and pace. A transfer
 * step reads it with `from.request` (pages of records) and writes it with `to.request` (requests of
 * records). It has no SQL and no catalog.
 */
import { AppError } from '../../core/errors.js';
import type { RowStream } from '../../core/records.js';
import type { FormatRegistry } from '../../formats/format-registry.js';
import type {
  Connector,
  ConnectorContext,
  ConnectorType,
  DestinationSpec,
  SourceResult,
  SourceSpec,
  TableInfo,
  Writer,
} from '../connector.js';
import { HttpClient } from './http-client.js';
import { HTTP_SECRET_FIELDS, type HttpConfig, HttpConfigSchema, parseHttpConfig } from './http-config.js';
import { readHttp } from './http-source.js';
import { buildUrl } from './http-template.js';
import { openHttpWriter } from './http-writer.js';

class HttpConnector implements Connector {
  readonly type = 'http';
  private readonly client: HttpClient;

  constructor(
    private readonly config: HttpConfig,
    private readonly formats: FormatRegistry,
  ) {
    this.client = new HttpClient(config);
  }

  /**
   * A GET of checkPath (default: the base URL). Reaching the API is not enough: an answer of 5xx
   * (the API is failing) or 401/407 (the credentials are refused) fails the check.
   */
  async check(): Promise<void> {
    const url = buildUrl(this.config.baseUrl, this.config.checkPath, undefined, () => undefined, 'checkPath');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.config.headers ?? {})) headers[k.toLowerCase()] = v;
    const answer = await this.client.send(
      { method: 'GET', url, headers, what: 'connection test' },
      undefined,
    );
    await answer.discard();
    if (answer.status >= 500 || answer.status === 401 || answer.status === 407) {
      throw new AppError(
        'CONNECTION_FAILED',
        `${answer.where} answered ${answer.status}${answer.status < 500 ? ' (the credentials are refused)' : ''}`,
      );
    }
  }

  /** An HTTP API has no catalog to list: its endpoints are in the flows that call them. */
  async discover(): Promise<TableInfo[]> {
    return [];
  }

  async read(spec: SourceSpec, signal?: AbortSignal): Promise<SourceResult> {
    if (!('request' in spec)) {
      throw new AppError(
        'BAD_REQUEST',
        'An http connection reads { request: { path, … } }, not tables, queries or files',
      );
    }
    const batches: RowStream = readHttp(this.client, this.config, this.formats, spec, signal);
    return { batches };
  }

  async writer(spec: DestinationSpec, signal?: AbortSignal): Promise<Writer> {
    const request = spec.request;
    if (request === undefined) {
      throw new AppError(
        'BAD_REQUEST',
        'An http connection writes { request: { method, path, … } }, not tables or files',
      );
    }
    return openHttpWriter(this.client, this.config, this.formats, { ...spec, request }, signal);
  }

  async execute(): Promise<{ rowsAffected: number }> {
    throw new AppError(
      'BAD_REQUEST',
      'An http connection has no SQL; use it as a source or destination of a transfer',
    );
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export const httpConnectorType = {
  type: 'http',
  title: 'HTTP API',
  configSchema: HttpConfigSchema,
  secretFields: HTTP_SECRET_FIELDS,
  validate(config) {
    parseHttpConfig(config);
  },
  create(config, ctx: ConnectorContext) {
    return new HttpConnector(parseHttpConfig(config), ctx.formats);
  },
} satisfies ConnectorType;
