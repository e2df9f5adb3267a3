import { access, constants, mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { AppError, errorMessage } from '../../core/errors.js';
import type { Column, RowStream } from '../../core/records.js';
import type { ByteSource } from '../../formats/format.js';
import type { FormatRegistry } from '../../formats/format-registry.js';
import { readOptions } from '../../formats/options.js';
import type {
  Connector,
  ConnectorContext,
  ConnectorType,
  CopyIn,
  CopyOut,
  CsvCopyOptions,
  DestinationSpec,
  SourceResult,
  SourceSpec,
  Writer,
} from '../connector.js';
import type { FileAccess } from '../file-access.js';
import { copyCsvFileIn, copyCsvFileOut } from './csv-copy.js';
import { fileCsvOffer, requireCsvFastPath } from './csv-fast-path.js';
import { discoverFiles, type FileTableInfo } from './file-discovery.js';
import { openFileWriter } from './file-writer.js';
import { hasWildcard, matchFiles } from './glob.js';
import { localFileOps as ops } from './local-file-ops.js';
import { cleanRelativePath, confine, confineNew } from './paths.js';

export const FilesConfigSchema = Type.Object(
  {
    root: Type.String({
      minLength: 1,
      description:
        'The folder this connection reads and writes; relative paths resolve against the data directory. It must be inside INTEGRATOR_FILE_ROOTS unless an admin saves the connection.',
    }),
  },
  { additionalProperties: false },
);

export type FilesConfig = Static<typeof FilesConfigSchema>;

export type { FileTableInfo } from './file-discovery.js';

class FilesConnector implements Connector {
  readonly type = 'files';
  private readonly root: string;
  private readonly formats: FormatRegistry;
  private readonly access: FileAccess;

  constructor(config: FilesConfig, ctx: ConnectorContext) {
    this.root = path.resolve(ctx.dataDir, config.root);
    this.formats = ctx.formats;
    this.access = ctx.files;
  }

  /**
   * The real path of the root, resolved and checked against the file roots on every use: the folder may
   * be created after the connection, or replaced by a symlink.
   */
  private async realRoot(): Promise<string> {
    await this.access.require(this.root, this.root);
    try {
      return await realpath(this.root);
    } catch (err) {
      throw new AppError(
        'CONNECTION_FAILED',
        `Folder '${this.root}' is not accessible: ${errorMessage(err)}`,
      );
    }
  }

  async check(): Promise<void> {
    await this.access.require(this.root, this.root);
    try {
      const s = await stat(this.root);
      if (!s.isDirectory()) throw new Error('not a folder');
      await access(this.root, constants.R_OK | constants.W_OK);
    } catch (err) {
      throw new AppError(
        'CONNECTION_FAILED',
        `Folder '${this.root}' must exist and be readable and writable: ${errorMessage(err)}`,
      );
    }
  }

  async discover(): Promise<FileTableInfo[]> {
    const rootReal = await this.realRoot();
    return discoverFiles(ops, rootReal, this.formats, (full) => this.access.allows(full));
  }

  /** Matching files (real, confined paths) with the names shown in errors, in name order. */
  private async resolveFiles(pattern: string): Promise<{ full: string; shown: string }[]> {
    const clean = cleanRelativePath(pattern);
    const rootReal = await this.realRoot();
    const wildcard = hasWildcard(clean);
    const names = wildcard ? await matchFiles(ops, rootReal, clean) : [clean];
    const out: { full: string; shown: string }[] = [];
    for (const name of names) {
      let full: string;
      try {
        full = await confine(rootReal, path.join(rootReal, name), name);
      } catch (err) {
        if (err instanceof Error && 'code' in err && err.code === 'ENOENT') {
          throw new AppError('NOT_FOUND', `File '${name}' does not exist in folder '${this.root}'`);
        }
        throw err;
      }
      // A wildcard matches only the files this connection may use; a file named outright must be one.
      if (wildcard && !(await this.access.allows(full))) continue;
      out.push({ full: await this.access.require(full, name), shown: name });
    }
    return out;
  }

  async read(spec: SourceSpec, signal?: AbortSignal): Promise<SourceResult> {
    if (!('file' in spec))
      throw new AppError('BAD_REQUEST', 'A files connection reads { file, format }, not tables or queries');
    const format = this.formats.bind(spec.format);
    const files = await this.resolveFiles(spec.file);
    async function* batches(): RowStream {
      for (const file of files) {
        signal?.throwIfAborted();
        const input = ops.openRead(file.full);
        yield* format.read(input, signal ? { source: file.shown, signal } : { source: file.shown });
      }
    }
    return { batches: batches() };
  }

  /** A destination file: clean, not a wildcard, inside the root (symlinks too), its folder created. */
  private async destination(file: string): Promise<{ full: string; shown: string }> {
    const shown = cleanRelativePath(file);
    if (hasWildcard(shown)) throw new AppError('BAD_REQUEST', `Cannot write to a wildcard path '${shown}'`);
    // A destination folder that does not exist yet is created, as an export target usually is, once the
    // file roots allow it.
    await this.access.require(this.root, this.root);
    await mkdir(this.root, { recursive: true });
    const rootReal = await this.realRoot();
    const full = path.join(rootReal, shown);
    await confineNew(rootReal, full, shown);
    await this.access.require(full, shown);
    await mkdir(path.dirname(full), { recursive: true });
    await confine(rootReal, path.dirname(full), shown);
    await this.access.require(full, shown);
    return { full, shown };
  }

  async writer(spec: DestinationSpec, signal?: AbortSignal): Promise<Writer> {
    if (spec.file === undefined || spec.format === undefined) {
      throw new AppError('BAD_REQUEST', 'A files connection writes { file, format }');
    }
    const format = this.formats.bind(spec.format);
    const { full, shown } = await this.destination(spec.file);
    return openFileWriter({ ops, full, shown, format, mode: spec.mode, columns: spec.columns, signal });
  }

  readonly copyOut: CopyOut = {
    dialect: (spec) => ('file' in spec && !hasWildcard(spec.file) ? fileCsvOffer(spec.format) : undefined),
    read: (spec, dialect, signal) => this.copyFileOut(spec, dialect, signal),
  };

  readonly copyIn: CopyIn = {
    dialect: (spec) => (spec.file === undefined ? undefined : fileCsvOffer(spec.format)),
    ready: (spec) => this.canCopyIn(spec),
    write: (spec, csv, dialect, signal) => this.copyFileIn(spec, csv, dialect, signal),
  };

  /**
   * Byte fast path out: the raw bytes of one CSV file (header included) when reading it through the
   * format would not change a value (see fileCsvDialect); BAD_REQUEST otherwise, before any byte.
   */
  private async copyFileOut(
    spec: SourceSpec,
    csvOptions: CsvCopyOptions,
    signal?: AbortSignal,
  ): Promise<{ columns: Column[]; bytes: AsyncIterable<Uint8Array> }> {
    if (!('file' in spec)) {
      throw new AppError('BAD_REQUEST', 'A files connection reads { file, format }, not tables or queries');
    }
    if (hasWildcard(cleanRelativePath(spec.file))) {
      throw new AppError(
        'BAD_REQUEST',
        `The CSV byte fast path reads one file, not the wildcard '${spec.file}'; use the row path`,
      );
    }
    // The dialect is judged before the file is looked for: a wrong format is the flow's mistake.
    requireCsvFastPath(spec.format, csvOptions, `'${spec.file}'`);
    const [file] = await this.resolveFiles(spec.file);
    if (!file) throw new AppError('NOT_FOUND', `File '${spec.file}' does not exist`);
    return copyCsvFileOut(ops, file, spec.format, csvOptions, signal);
  }

  private async canCopyIn(spec: DestinationSpec): Promise<boolean> {
    if (spec.file === undefined || spec.mode === 'upsert') return false;
    if (spec.mode === 'replace') return true;
    return !(await ops.size((await this.destination(spec.file)).full));
  }

  /**
   * Byte fast path in: CSV bytes written as they are to a CSV destination in the same dialect, atomically
   * (temp file + rename). Only mode replace, or append to a file that does not exist yet or is empty;
   * rowsWritten counts records (line feeds outside quotes) minus the header.
   */
  private async copyFileIn(
    spec: DestinationSpec,
    csv: ByteSource,
    csvOptions: CsvCopyOptions,
    signal?: AbortSignal,
  ): Promise<{ rowsWritten: number }> {
    if (spec.file === undefined || spec.format === undefined) {
      throw new AppError('BAD_REQUEST', 'A files connection writes { file, format }');
    }
    requireCsvFastPath(spec.format, csvOptions, `'${spec.file}'`);
    return copyCsvFileIn(ops, await this.destination(spec.file), spec, csv, csvOptions, signal);
  }

  async execute(): Promise<{ rowsAffected: number }> {
    throw new AppError(
      'BAD_REQUEST',
      'A files connection has no SQL; use it as a source or destination of a transfer',
    );
  }

  async close(): Promise<void> {}
}

export const filesConnector = {
  type: 'files',
  title: 'Folder of files',
  configSchema: FilesConfigSchema,
  secretFields: [],
  localPaths: (config) =>
    typeof config['root'] === 'string' ? [{ field: '/root', path: config['root'] }] : [],
  create(config, ctx) {
    return new FilesConnector(readOptions(FilesConfigSchema, config, 'files connection'), ctx);
  },
} satisfies ConnectorType;
