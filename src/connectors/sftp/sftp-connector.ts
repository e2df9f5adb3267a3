import { AppError } from '../../core/errors.js';
import type { Column, Row, RowStream } from '../../core/records.js';
import type { FormatRegistry } from '../../formats/format-registry.js';
import { cancelledError, onAbort } from '../abort.js';
import type {
  Connector,
  CopyIn,
  CopyOut,
  DestinationSpec,
  SourceResult,
  SourceSpec,
  Writer,
} from '../connector.js';
import { copyCsvFileIn, copyCsvFileOut } from '../files/csv-copy.js';
import { fileCsvOffer, requireCsvFastPath } from '../files/csv-fast-path.js';
import { discoverFiles, type FileTableInfo } from '../files/file-discovery.js';
import { openFileWriter } from '../files/file-writer.js';
import { hasWildcard } from '../files/glob.js';
import { cleanRelativePath } from '../files/paths.js';
import type { SftpConfig } from './sftp-config.js';
import { SftpFolder } from './sftp-folder.js';

/**
 * A folder on an SFTP server, with the files connector's behaviour: wildcards, every format, append and
 * replace through a temporary file renamed over the target, streaming both ways, the CSV byte paths.
 * Each operation (a read, a write, check, discover) has an SSH connection of its own, closed when it
 * ends, so a dropped connection fails only the run that was using it.
 */
export class SftpConnector implements Connector {
  readonly type = 'sftp';

  constructor(
    private readonly config: SftpConfig,
    private readonly formats: FormatRegistry,
  ) {}

  /** Runs `use` on a folder of its own, closed afterwards; failures say what the server or link did. */
  private async within<T>(
    create: boolean,
    signal: AbortSignal | undefined,
    use: (folder: SftpFolder) => Promise<T>,
  ): Promise<T> {
    const folder = await SftpFolder.open(this.config, create, signal);
    try {
      return await use(folder);
    } catch (err) {
      throw signal?.aborted ? cancelledError() : folder.failure(err);
    } finally {
      folder.close();
    }
  }

  async check(): Promise<void> {
    await this.within(false, undefined, async (folder) => {
      await folder.ops.readdir(folder.rootReal);
    });
  }

  async discover(): Promise<FileTableInfo[]> {
    return this.within(false, undefined, (folder) =>
      discoverFiles(folder.ops, folder.rootReal, this.formats),
    );
  }

  async read(spec: SourceSpec, signal?: AbortSignal): Promise<SourceResult> {
    if (!('file' in spec))
      throw new AppError('BAD_REQUEST', 'An sftp connection reads { file, format }, not tables or queries');
    const format = this.formats.bind(spec.format);
    const folder = await SftpFolder.open(this.config, false, signal);
    const unhook = onAbort(signal, () => folder.close());
    let files: Awaited<ReturnType<SftpFolder['files']>>;
    try {
      files = await folder.files(spec.file);
    } catch (err) {
      unhook();
      folder.close();
      throw folder.failure(err);
    }
    async function* batches(): RowStream {
      try {
        for (const file of files) {
          signal?.throwIfAborted();
          const input = folder.ops.openRead(file.full);
          yield* format.read(input, signal ? { source: file.shown, signal } : { source: file.shown });
        }
      } catch (err) {
        throw signal?.aborted ? cancelledError() : folder.failure(err);
      } finally {
        unhook();
        folder.close();
      }
    }
    return { batches: batches() };
  }

  async writer(spec: DestinationSpec, signal?: AbortSignal): Promise<Writer> {
    if (spec.file === undefined || spec.format === undefined) {
      throw new AppError('BAD_REQUEST', 'An sftp connection writes { file, format }');
    }
    const format = this.formats.bind(spec.format);
    const folder = await SftpFolder.open(this.config, true, signal);
    let inner: Writer;
    try {
      const { full, shown } = await folder.destination(spec.file);
      inner = await openFileWriter({
        ops: folder.ops,
        full,
        shown,
        format,
        mode: spec.mode,
        columns: spec.columns,
        signal,
      });
    } catch (err) {
      folder.close();
      throw folder.failure(err);
    }
    // The writer's own abort handling removes the temp file; the session closes once it is done.
    return {
      async write(batch: Row[]): Promise<void> {
        try {
          await inner.write(batch);
        } catch (err) {
          throw signal?.aborted ? cancelledError() : folder.failure(err);
        }
      },
      async commit(): Promise<{ rowsWritten: number }> {
        try {
          return await inner.commit();
        } catch (err) {
          throw signal?.aborted ? cancelledError() : folder.failure(err);
        } finally {
          folder.close();
        }
      },
      async rollback(): Promise<void> {
        try {
          await inner.rollback();
        } finally {
          folder.close();
        }
      },
    };
  }

  readonly copyOut: CopyOut = {
    dialect: (spec) => ('file' in spec && !hasWildcard(spec.file) ? fileCsvOffer(spec.format) : undefined),
    read: async (spec, csvOptions, signal) => {
      if (!('file' in spec)) {
        throw new AppError('BAD_REQUEST', 'An sftp connection reads { file, format }, not tables or queries');
      }
      if (hasWildcard(cleanRelativePath(spec.file))) {
        throw new AppError(
          'BAD_REQUEST',
          `The CSV byte fast path reads one file, not the wildcard '${spec.file}'; use the row path`,
        );
      }
      requireCsvFastPath(spec.format, csvOptions, `'${spec.file}'`);
      const folder = await SftpFolder.open(this.config, false, signal);
      let out: { columns: Column[]; bytes: AsyncIterable<Uint8Array> };
      try {
        const [file] = await folder.files(spec.file);
        if (!file) throw new AppError('NOT_FOUND', `File '${spec.file}' does not exist`);
        out = await copyCsvFileOut(folder.ops, file, spec.format, csvOptions, signal);
      } catch (err) {
        folder.close();
        throw folder.failure(err);
      }
      const source = out.bytes;
      async function* bytes(): AsyncGenerator<Uint8Array> {
        try {
          yield* source;
        } catch (err) {
          throw signal?.aborted ? cancelledError() : folder.failure(err);
        } finally {
          folder.close();
        }
      }
      return { columns: out.columns, bytes: bytes() };
    },
  };

  readonly copyIn: CopyIn = {
    dialect: (spec) => (spec.file === undefined ? undefined : fileCsvOffer(spec.format)),
    ready: async (spec) => {
      const file = spec.file;
      if (file === undefined || spec.mode === 'upsert') return false;
      if (spec.mode === 'replace') return true;
      return this.within(true, undefined, async (folder) => {
        return !(await folder.ops.size((await folder.destination(file)).full));
      });
    },
    write: async (spec, csv, csvOptions, signal) => {
      const file = spec.file;
      if (file === undefined || spec.format === undefined) {
        throw new AppError('BAD_REQUEST', 'An sftp connection writes { file, format }');
      }
      requireCsvFastPath(spec.format, csvOptions, `'${file}'`);
      return this.within(true, signal, async (folder) =>
        copyCsvFileIn(folder.ops, await folder.destination(file), spec, csv, csvOptions, signal),
      );
    },
  };

  async execute(): Promise<{ rowsAffected: number }> {
    throw new AppError(
      'BAD_REQUEST',
      'An sftp connection has no SQL; use it as a source or destination of a transfer',
    );
  }

  async close(): Promise<void> {}
}
