/**
 * What a connector built directly in a test is given: the built-in formats, and file access bounded by
 * the system's temporary folder (where tests keep their files), with an empty folder of its own standing
 * in for the server's data directory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorContext } from '../../src/connectors/connector.js';
import { FileRoots } from '../../src/connectors/file-access.js';
import { builtinFormats } from '../../src/formats/registry.js';

let roots: FileRoots | undefined;

export function connectorContext(dataDir: string): ConnectorContext {
  roots ??= FileRoots.open({
    dataDir: mkdtempSync(join(tmpdir(), 'integrator-server-')),
    fileRoots: [tmpdir()],
  });
  return { dataDir, formats: builtinFormats, files: roots.forConnection(false) };
}
