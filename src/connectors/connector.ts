import type { TSchema } from '@sinclair/typebox';
import type { Column, Row, RowStream } from '../core/records.js';
import type { CsvDialect, CsvDialectOffer } from '../formats/csv-dialect.js';
import type { ByteSource, FormatType } from '../formats/format.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import type { ConsumeSpec, MessageConsumer } from './brokers/message-consumer.js';
import type { MessageTarget } from './brokers/message-target-schema.js';
import type { CommitLedger, CommitMark } from './commit-ledger.js';
import type { FileAccess } from './file-access.js';
import type { AnswerSink } from './http/http-answers.js';
import type { HttpSourceRequest, HttpTargetRequest } from './http/http-request-schema.js';
import type { MessageKeys } from './message-keys.js';

/** Format settings as a flow states them: the format type plus its options. */
export interface FormatSpec {
  type: FormatType;
  options?: Record<string, unknown>;
}

/**
 * What to read. Database connectors take `table` or `query`; the files connector takes `file`.
 * In `query`, `{name}` placeholders are bound from `params` as real bind parameters (see sql-params.ts),
 * never spliced into the text.
 */
export type SourceSpec = (
  | { table: string; columns?: string[] }
  | { query: string; params?: Record<string, unknown> }
  | { file: string; format: FormatSpec }
  /** An HTTP API: `{name}` placeholders in its templates come from `params` (see http-template.ts). */
  | { request: HttpSourceRequest; format?: FormatSpec; params?: Record<string, unknown> }
) & {
  /**
   * The reader's consumer takes at most this many rows (a data API answering one object). A hint: a
   * connector may fetch no more than that, or ignore it; either way rows come in order.
   */
  maxRows?: number;
};

export type WriteMode = 'append' | 'replace' | 'upsert';

export interface DestinationSpec {
  table?: string;
  file?: string;
  format?: FormatSpec;
  mode: WriteMode;
  /** Key columns for upsert. */
  keys?: string[];
  /** The incoming column layout, used to create a missing table and to order values. */
  columns: Column[];
  /**
   * The columns were inferred from the first records (a source without column types): a table created
   * from them checks every later record against them (createdTypeGuard).
   */
  columnsInferred?: boolean;
  /** Create the table when it does not exist (default true). */
  create?: boolean;
  /**
   * The run step this write commits for: a connector with a `commits` ledger records it in the same
   * transaction as the rows (see commit-ledger.ts); others ignore it.
   */
  commit?: CommitMark;
  /**
   * The keys of the messages the rows came from (a subscription with a dedupe key): a connector whose
   * `commits.findKeys` exists records them in the same transaction as the rows (see message-keys.ts).
   */
  dedupe?: MessageKeys;
  /** An HTTP API destination's requests (see http-writer.ts); other connectors ignore it. */
  request?: HttpTargetRequest;
  /**
   * Where an HTTP API destination hands each answer as a row (a step's `to.responses`, see
   * http-answers.ts). The flow engine sets it only for a step with `to.request`.
   */
  answers?: AnswerSink;
  /** A message broker destination's messages (see brokers/message-writer.ts). */
  message?: MessageTarget;
  /** The run's parameters, for destinations whose templates use them (an HTTP API, a broker). */
  params?: Record<string, unknown>;
  /** The run and the step (0-based) writing, for destinations whose templates name them. */
  run?: { id: string; step: number };
}

export interface TableInfo {
  schema?: string;
  name: string;
  columns: Column[];
}

export interface SourceResult {
  /** Known up front for database sources; files learn them from the first batch. */
  columns?: Column[];
  batches: RowStream;
}

/**
 * A destination write in progress. Everything written becomes visible at `commit()` and not before;
 * `rollback()` (or an abort of the signal) leaves the destination exactly as it was.
 */
export interface Writer {
  write(batch: Row[]): Promise<void>;
  commit(): Promise<{ rowsWritten: number }>;
  rollback(): Promise<void>;
  /**
   * For a destination that cannot roll back (an HTTP API): what stays written after a rollback, in
   * words for the run log; undefined when nothing does.
   */
  leftBehind?(): string | undefined;
}

/** The CSV a copy path is told to speak; what is left out is PLAIN_CSV's (formats/csv-dialect.ts). */
export type CsvCopyOptions = Partial<CsvDialect>;

/**
 * Byte fast path in: CSV bytes straight into a destination in one transaction (COPY FROM STDIN, LOAD
 * DATA, a file written as it is). The engine uses it only when no transform needs the values and the
 * source's copyOut speaks a CSV this destination takes (agreeCsvDialect).
 */
export interface CopyIn {
  /** The CSV this destination takes, as data; undefined when the byte path does not apply. Looks at the spec only. */
  dialect(spec: DestinationSpec): CsvDialectOffer | undefined;
  /**
   * Whether the destination as it stands now can take bytes (a file connector appends bytes only to a
   * missing or empty file). Absent means every mode `write` supports.
   */
  ready?(spec: DestinationSpec): Promise<boolean>;
  write(
    spec: DestinationSpec,
    csv: ByteSource,
    dialect: CsvCopyOptions,
    signal?: AbortSignal,
  ): Promise<{ rowsWritten: number }>;
}

/** Byte fast path out: a table, query or file as CSV bytes with a header row. */
export interface CopyOut {
  /** The CSV this source gives, as data; undefined when the byte path does not apply. Looks at the spec only. */
  dialect(spec: SourceSpec): CsvDialectOffer | undefined;
  read(
    spec: SourceSpec,
    dialect: CsvCopyOptions,
    signal?: AbortSignal,
  ): Promise<{ columns: Column[]; bytes: AsyncIterable<Uint8Array> }>;
}

/**
 * One instance per configured connection, shared by every run that uses it (it owns the pool).
 * Every method honours `signal`: an abort cancels the running statement and rolls back.
 */
export interface Connector {
  readonly type: string;
  /** Proves the endpoint is reachable with these settings; throws CONNECTION_FAILED with the reason. */
  check(): Promise<void>;
  /** Tables (or files) and their columns. */
  discover(): Promise<TableInfo[]>;
  read(spec: SourceSpec, signal?: AbortSignal): Promise<SourceResult>;
  writer(spec: DestinationSpec, signal?: AbortSignal): Promise<Writer>;
  /** Runs statements (sql flows) inside one transaction; `{name}` placeholders are bound. */
  execute(
    sql: string,
    params: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<{ rowsAffected: number }>;
  /**
   * The destination's record of the run steps it committed, for connectors whose writers and copyIn
   * record `DestinationSpec.commit` atomically with the rows (databases). Absent: at least once.
   */
  readonly commits?: CommitLedger;
  /**
   * Consumes a queue or stream for a subscription (message brokers): deliveries each with their ack
   * (brokers/message-consumer.ts). Absent: the connection cannot be subscribed to.
   */
  consume?(spec: ConsumeSpec): Promise<MessageConsumer>;
  /** Optional byte fast paths (see CopyIn and CopyOut). */
  readonly copyIn?: CopyIn;
  readonly copyOut?: CopyOut;
  close(): Promise<void>;
}

export interface ConnectorContext {
  /** The folder relative paths resolve against (the data directory). */
  dataDir: string;
  /** The server's formats, for connectors that read and write files. */
  formats: FormatRegistry;
  /**
   * Whether this connection may use a local path (file-access.ts). A connector that opens local files
   * asks it before every open, list and write, with the path it is about to open.
   */
  files: FileAccess;
}

/** The fields of a subscription that say what it consumes, by broker. */
export type SubscriptionField = 'queue' | 'stream' | 'consumer' | 'subject' | 'group' | 'topic';

/** A local path a connection's settings name, checked against the file roots when it is saved. */
export interface LocalPath {
  /** The settings field that holds it, as a JSON path (`/root`). */
  field: string;
  /** The path as configured: relative paths resolve against the data directory. */
  path: string;
}

/** A kind of connection: its config schema (which fields are secret) and how to open one. */
export interface ConnectorType<Config = Record<string, unknown>> {
  readonly type: string;
  readonly title: string;
  readonly configSchema: TSchema;
  /** Config fields that are encrypted at rest and never returned by the API. */
  readonly secretFields: readonly string[];
  /**
   * The local files or folders these settings name. The server refuses a connection whose paths are the
   * data directory's own files (for everybody) or outside INTEGRATOR_FILE_ROOTS (for everybody but an
   * admin) when it is saved; `ctx.files` checks them again at every use.
   */
  localPaths?(config: Config): LocalPath[];
  /**
   * Checks settings the schema cannot (one field required by the value of another) when a connection
   * is saved; throws VALIDATION_FAILED naming the field.
   */
  validate?(config: Config): void;
  /**
   * For a connector that can be subscribed to (Connector.consume): which ConsumeSpec fields a
   * subscription of it must give and which it may give, checked when the subscription is saved.
   */
  readonly consumes?: { required: readonly SubscriptionField[]; optional: readonly SubscriptionField[] };
  /** May be async, so a connector's driver loads only when a connection of its type first opens. */
  create(config: Config, ctx: ConnectorContext): Connector | Promise<Connector>;
}
