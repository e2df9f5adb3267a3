import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesConnector } from '../../src/connectors/files/index.js';
import { connectorContext } from '../helpers/connector-context.js';
import { describeConnectorConformance } from './conformance.js';

// Datasets are NDJSON files: the format that keeps the most of each value's type.
describeConnectorConformance(
  'files (ndjson)',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'integrator-files-conf-'));
    const connector = filesConnector.create({ root: '.' }, connectorContext(dir));
    const format = { type: 'ndjson' as const };
    return {
      connector,
      source: (name) => ({ file: `${name}.ndjson`, format }),
      destination: (name, mode, columns, keys) => ({
        file: `${name}.ndjson`,
        format,
        mode,
        columns,
        ...(keys ? { keys } : {}),
      }),
      constraints: false,
      discoveredName: (name) => `${name}.ndjson`,
      teardown: async () => {
        await connector.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { sql: false, typedValues: false, upsert: false, createSwitch: false, constraints: false },
);
