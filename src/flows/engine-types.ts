import { type Static, Type } from '@sinclair/typebox';
import type { Row, RowStream } from '../core/records.js';
import { StringEnum } from '../core/string-enum.js';
import type { ByteSource, FormatType } from '../formats/format.js';

/**
 * What the flow engine takes and reports. The run service records these in runs; they are defined
 * here, with the engine, so the engine depends on nothing that records runs.
 */

/** Raw parameter values as they arrive (query strings are text); the flow's declarations convert them. */
export const RawParamsSchema = Type.Record(
  Type.String(),
  Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
);
export type RawParams = Static<typeof RawParamsSchema>;

export const STEP_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const StepStatsSchema = Type.Object({
  name: Type.String(),
  status: StringEnum(STEP_STATUSES),
  rowsRead: Type.Integer(),
  rowsWritten: Type.Integer(),
  startedAt: Type.Optional(Type.String()),
  durationMs: Type.Optional(Type.Integer()),
  path: Type.Optional(
    StringEnum(['copy', 'rows', 'sql', 'flow'], {
      description:
        'How the step moved the data: `copy` (bytes straight through) or `rows` (parsed and transformed)',
    }),
  ),
  error: Type.Optional(Type.String()),
});
export type StepStats = Static<typeof StepStatsSchema>;

export const LogLineSchema = Type.Object({
  at: Type.String(),
  level: StringEnum(['info', 'warn', 'error']),
  message: Type.String(),
});
export type LogLine = Static<typeof LogLineSchema>;

/**
 * The identity a run's destination commits are recorded under (commit-ledger.ts), given for a run that
 * may execute again: a queued run (retries, crash recovery) or a sync listener call with an
 * Idempotency-Key. `recheck`: an earlier execution may have committed some steps, which are not written
 * again.
 */
export interface CommitIdentity {
  runId: string;
  attempt: number;
  recheck: boolean;
}

/**
 * The data a caller hands to a flow and takes from it: the request body as the `@request` source, and a
 * sink that receives the `@response` target's rows. Present only when a listener call runs the flow.
 */
export interface FlowIo {
  /** The request body: bytes and how to parse them. */
  request?: {
    body: ByteSource;
    format: { type: FormatType; options?: Record<string, unknown> };
    source: string;
  };
  /** Rows to already-parsed records (used when the listener parsed the body itself). */
  requestRows?: Row[];
  /** Receives the `@response` target's rows as they are produced. */
  response?: (rows: RowStream) => Promise<number>;
  /** The most rows `response` takes (1 for a listener answering one object), when it stops early. */
  responseRows?: number;
  /** The `@message` source: the records of a subscription's message batch (see MessageBatch). */
  messages?: MessageBatch;
}

/**
 * The records of a batch of messages, handed to a flow by a subscription. With `dedupe`, `keys[i]` is
 * the dedupe key of the message `rows[i]` came from: a step whose destination records message keys
 * (CommitLedger.findKeys) writes no row of a message it recorded before, and records the others' keys
 * with its rows (exactly once); other destinations get every row (at least once).
 */
export interface MessageBatch {
  rows: Row[];
  dedupe?: { scope: string; keys: string[] };
}
