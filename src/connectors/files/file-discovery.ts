import { Decimal } from '../../core/decimal.js';
import type { Column, ColumnType, Row } from '../../core/records.js';
import type { FormatType } from '../../formats/format.js';
import type { FormatRegistry } from '../../formats/format-registry.js';
import type { TableInfo } from '../connector.js';
import type { FileOps } from './file-ops.js';
import { listFiles } from './glob.js';

/** discover() also says which format a file's extension implies. */
export interface FileTableInfo extends TableInfo {
  format?: FormatType;
}

function columnType(value: unknown): ColumnType {
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'bigint') return 'bigint';
  if (typeof value === 'boolean') return 'boolean';
  if (value instanceof Decimal) return 'decimal';
  if (typeof value === 'object' && value !== null) return 'json';
  return 'text';
}

/**
 * The files under `root` (hidden names left out, `allows` says which the connection may use), each with
 * the format its extension implies and the columns of its first record read with that format's
 * defaults. A file that does not parse that way is still listed, without columns.
 */
export async function discoverFiles(
  ops: FileOps,
  root: string,
  formats: FormatRegistry,
  allows: (full: string) => Promise<boolean> = async () => true,
): Promise<FileTableInfo[]> {
  const out: FileTableInfo[] = [];
  for (const rel of await listFiles(ops, root)) {
    const full = ops.path.join(root, rel);
    if (!(await allows(full))) continue;
    const dot = rel.lastIndexOf('.');
    const format = dot > rel.lastIndexOf('/') ? formats.forExtension(rel.slice(dot)) : undefined;
    if (!format) {
      out.push({ name: rel, columns: [] });
      continue;
    }
    let columns: Column[] = [];
    const input = ops.openRead(full);
    // A stream error after the first record (the read is broken off) must not go unhandled.
    input.on('error', () => undefined);
    try {
      const batches = formats.bind({ type: format.type }).read(input, { source: rel, batchSize: 1 });
      for await (const batch of batches) {
        const first: Row | undefined = batch[0];
        if (first) columns = Object.entries(first).map(([name, v]) => ({ name, type: columnType(v) }));
        break; // only the first record is needed; breaking closes the file
      }
    } catch {
      // A file that does not parse with default options is still listed, without columns.
    } finally {
      input.destroy();
    }
    out.push({ name: rel, columns, format: format.type });
  }
  return out;
}
