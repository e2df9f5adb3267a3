/**
 * The http connector in the shared conformance suite. A dataset is a collection of a real local HTTP
 * API (node:http): written by POSTing JSON batches to /datasets/{name}, read back by GET with offset
 * pagination. An HTTP API has no catalog, no modes but sending, and cannot roll back, so those tests
 * give way to their HTTP counterparts (replace refused, what stays sent said).
 */
import type { Connector, WriteMode } from '../../src/connectors/connector.js';
import { httpConnectorType } from '../../src/connectors/http/http-connector.js';
import type { Column } from '../../src/core/records.js';
import { connectorContext } from '../helpers/connector-context.js';
import { type Capabilities, describeConnectorConformance } from './conformance.js';
import { json, type Route, startTestApi } from './http-test-api.js';

const HTTP: Capabilities = {
  sql: false,
  typedValues: false,
  upsert: false,
  createSwitch: false,
  constraints: false,
  catalog: false,
  replace: false,
  rollback: false,
};

/** One dataset of the API: POST appends a JSON array, GET answers `{items, total}` a page at a time. */
function collection(): Route {
  const items: unknown[] = [];
  return (req, res) => {
    if (req.method === 'POST') {
      const body: unknown = JSON.parse(req.body);
      if (!Array.isArray(body)) return json(res, 400, { error: 'expected a JSON array' });
      items.push(...body);
      return json(res, 201, { added: body.length });
    }
    const offset = Number(req.url.searchParams.get('offset') ?? '0');
    const limit = Number(req.url.searchParams.get('limit') ?? '100');
    json(res, 200, { items: items.slice(offset, offset + limit), total: items.length });
  };
}

describeConnectorConformance(
  'http (a local JSON API)',
  async () => {
    const api = await startTestApi();
    api.route('/', (_req, res) => json(res, 200, { ok: true }));
    const datasets = new Set<string>();
    const dataset = (name: string) => {
      if (!datasets.has(name)) api.route(`/datasets/${name}`, collection());
      datasets.add(name);
      return `datasets/${name}`;
    };
    const connector: Connector = await httpConnectorType.create(
      { baseUrl: api.url, retries: 0 },
      connectorContext('/tmp'),
    );
    return {
      connector,
      source: (name) => ({
        request: {
          method: 'GET',
          path: dataset(name),
          records: 'items',
          pagination: { type: 'offset', size: 10_000, stopOnEmptyPage: true },
        },
      }),
      destination: (name: string, mode: WriteMode, columns: Column[], keys?: string[]) => ({
        request: {
          method: 'POST',
          path: dataset(name),
          send: 'batch',
          batchSize: 5000,
          idempotencyHeader: 'Idempotency-Key',
        },
        mode,
        columns,
        ...(keys ? { keys } : {}),
      }),
      constraints: false,
      async teardown() {
        await connector.close();
        await api.close();
      },
    };
  },
  HTTP,
);
