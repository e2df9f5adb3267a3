import type { AuditInput } from '../audit/audit-event.js';
import type { Row, RowStream } from '../core/records.js';
import type { ByteSource } from '../formats/format.js';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type RunTrigger = 'api' | 'listener' | 'schedule' | 'cli' | 'pipeline';

export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Raw parameter values as they arrive (query strings are text); the flow's declarations convert them. */
export type RawParams = Record<string, string | number | boolean | null>;

export interface StepStats {
  name: string;
  status: RunStatus;
  rowsRead: number;
  rowsWritten: number;
  startedAt?: string;
  durationMs?: number;
  /** How the engine moved the data: `copy` (bytes straight through) or `rows` (parsed and transformed). */
  path?: 'copy' | 'rows' | 'sql' | 'flow';
  error?: string;
}

export interface LogLine {
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface Run {
  id: string;
  flow: string;
  trigger: RunTrigger;
  status: RunStatus;
  params: RawParams;
  requestedBy: string | null;
  parentId: string | null;
  attempt: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  rowsRead: number;
  rowsWritten: number;
  error: string | null;
  steps: StepStats[];
  log: LogLine[];
  /** The schedule that fired the run, if any. */
  schedule?: string | null;
  /** Runs sharing a lane run one at a time (a schedule with overlap `queue`). */
  lane?: string | null;
  /** A queued run does not start before this time (retry backoff). */
  notBefore?: string | null;
}

export interface RunRequest {
  flow: string;
  params?: RawParams;
  trigger: RunTrigger;
  requestedBy?: string | null;
  clientIp?: string | null;
  parentId?: string | null;
  schedule?: string | null;
  lane?: string | null;
}

/**
 * What a listener hands to a run: the request body as the `@request` source, and a sink that receives
 * the `@response` target's rows. Present only for listener-triggered runs.
 */
export interface RunIo {
  /** The request body: bytes and how to parse them. */
  request?: {
    body: ByteSource;
    format: { type: 'csv' | 'json' | 'ndjson' | 'xml'; options?: Record<string, unknown> };
    source: string;
  };
  /** Rows to already-parsed records (used when the listener parsed the body itself). */
  requestRows?: Row[];
  /** Receives the `@response` target's rows as they are produced. */
  response?: (rows: RowStream) => Promise<number>;
  /** The most rows `response` takes (1 for a listener answering one object), when it stops early. */
  responseRows?: number;
  /**
   * The audit event that records the run's end, in place of `flow.run.finished`: a sync listener call
   * is one event, the call with its run, committed with the run's final record. Called once, when the
   * run has ended and before its record is written.
   */
  endEvent?: (run: Run) => AuditInput;
}
