import { type Static, Type } from '@sinclair/typebox';
import type { AuditInput } from '../audit/audit-event.js';
import { StringEnum } from '../core/string-enum.js';
import {
  type FlowIo,
  LogLineSchema,
  type RawParams,
  RawParamsSchema,
  StepStatsSchema,
} from '../flows/engine-types.js';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const RUN_TRIGGERS = ['api', 'listener', 'schedule', 'cli', 'pipeline', 'subscription'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T, description?: string) =>
  Type.Union([schema, Type.Null()], description ? { description } : {});

/** One execution of a flow: the run API's answer and the record the run store keeps. */
export const RunSchema = Type.Object(
  {
    id: Type.String(),
    flow: Type.String(),
    trigger: StringEnum(RUN_TRIGGERS),
    status: StringEnum(RUN_STATUSES),
    params: RawParamsSchema,
    requestedBy: nullable(Type.String()),
    parentId: nullable(Type.String()),
    attempt: Type.Integer(),
    createdAt: Type.String(),
    startedAt: nullable(Type.String()),
    finishedAt: nullable(Type.String()),
    durationMs: nullable(Type.Integer()),
    rowsRead: Type.Integer(),
    rowsWritten: Type.Integer(),
    error: nullable(Type.String()),
    errorCode: Type.Optional(
      nullable(Type.String(), 'The error catalog code of the failure (e.g. CONSTRAINT_VIOLATION)'),
    ),
    steps: Type.Array(StepStatsSchema),
    log: Type.Array(LogLineSchema),
    schedule: Type.Optional(nullable(Type.String(), 'The schedule that fired it')),
    lane: Type.Optional(
      nullable(Type.String(), 'Runs sharing a lane run one at a time (a schedule with overlap `queue`)'),
    ),
    notBefore: Type.Optional(nullable(Type.String(), 'A queued retry starts no earlier than this')),
  },
  { $id: 'Run' },
);
export type Run = Static<typeof RunSchema>;

/** Which runs a list shows: the runs API's query and the run store's filter. */
export const RunFilterSchema = Type.Object({
  flow: Type.Optional(Type.String()),
  // Unions of literals, not StringEnum: the route handler's type is inferred from this schema.
  status: Type.Optional(Type.Union(RUN_STATUSES.map((s) => Type.Literal(s)))),
  trigger: Type.Optional(Type.Union(RUN_TRIGGERS.map((s) => Type.Literal(s)))),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  parent: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'Only the runs this run started (a pipeline’s steps)',
    }),
  ),
  before: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'A run id: only the runs listed after it (the next page: the last id of this one)',
    }),
  ),
});
export type RunFilter = Static<typeof RunFilterSchema>;

/** Where a page of runs starts: after this run in newest-first order. */
export interface RunCursor {
  createdAt: string;
  id: string;
}

/** Whether a run comes after the cursor in newest-first order (created_at desc, id desc). */
export function afterCursor(run: { createdAt: string; id: string }, cursor: RunCursor | undefined): boolean {
  if (!cursor) return true;
  return run.createdAt < cursor.createdAt || (run.createdAt === cursor.createdAt && run.id < cursor.id);
}

export interface RunRequest {
  flow: string;
  params?: RawParams;
  trigger: RunTrigger;
  requestedBy?: string | null;
  clientIp?: string | null;
  parentId?: string | null;
  /** How many pipelines the run is nested in: 0 for a run started from outside, 1 for a pipeline's child. */
  depth?: number;
  schedule?: string | null;
  lane?: string | null;
}

/** What a listener hands to a run: the flow's data (FlowIo), and how the run's end is audited. */
export interface RunIo extends FlowIo {
  /**
   * The audit event that records the run's end, in place of `flow.run.finished`: a sync listener call
   * is one event, the call with its run, committed with the run's final record. Called once, when the
   * run has ended and before its record is written.
   */
  endEvent?: (run: Run) => AuditInput;
}
