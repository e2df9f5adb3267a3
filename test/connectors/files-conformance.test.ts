import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connector, WriteMode } from '../../src/connectors/connector.js';
import { filesConnector } from '../../src/connectors/files/index.js';
import { sftpConnectorType } from '../../src/connectors/sftp/sftp-type.js';
import type { Column } from '../../src/core/records.js';
import { connectorContext } from '../helpers/connector-context.js';
import { startSshd } from '../helpers/sshd.js';
import { type Capabilities, type ConformanceHarness, describeConnectorConformance } from './conformance.js';

const FILES: Capabilities = {
  sql: false,
  typedValues: false,
  upsert: false,
  createSwitch: false,
  constraints: false,
  catalog: true,
  replace: true,
  rollback: true,
};

// Datasets are NDJSON files: the format that keeps the most of each value's type.
function ndjsonHarness(connector: Connector, teardown: () => Promise<void>): ConformanceHarness {
  const format = { type: 'ndjson' as const };
  return {
    connector,
    source: (name) => ({ file: `${name}.ndjson`, format }),
    destination: (name: string, mode: WriteMode, columns: Column[], keys?: string[]) => ({
      file: `${name}.ndjson`,
      format,
      mode,
      columns,
      ...(keys ? { keys } : {}),
    }),
    constraints: false,
    discoveredName: (name) => `${name}.ndjson`,
    teardown,
  };
}

describeConnectorConformance(
  'files (ndjson)',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'integrator-files-conf-'));
    const connector = filesConnector.create({ root: '.' }, connectorContext(dir));
    return ndjsonHarness(connector, async () => {
      await connector.close();
      rmSync(dir, { recursive: true, force: true });
    });
  },
  FILES,
);

// The same files over SFTP, against a real OpenSSH server.
describeConnectorConformance(
  'sftp (ndjson)',
  async () => {
    const server = await startSshd();
    const root = join(server.dir, 'conformance');
    mkdirSync(root);
    const connector = await sftpConnectorType.create(
      {
        host: server.host,
        port: server.port,
        username: server.username,
        privateKey: server.privateKey,
        hostKey: server.hostKey,
        root,
      },
      connectorContext(server.dir),
    );
    return ndjsonHarness(connector, async () => {
      await connector.close();
      await server.stop();
    });
  },
  FILES,
);
