/**
 * The shapes the console reads from the REST API. They mirror the server's TypeBox schemas
 * (src/runs/run-types.ts, src/flows/flow-schema.ts, src/audit/audit-routes.ts); the OpenAPI document at
 * /docs/json is the reference.
 */
export type Role = 'api' | 'viewer' | 'operator' | 'editor' | 'admin';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const RUN_TRIGGERS = ['api', 'listener', 'schedule', 'cli', 'pipeline'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];
export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface Me {
  login: string;
  role: Role;
  via: string;
}

export interface StepStats {
  name: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  rowsRead: number;
  rowsWritten: number;
  startedAt?: string;
  durationMs?: number;
  path?: string;
  error?: string;
}

export interface LogLine {
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

/** A run as the runs API answers it; events and the latest-runs list leave out `params` and `log`. */
export interface Run {
  id: string;
  flow: string;
  trigger: RunTrigger;
  status: RunStatus;
  params?: Record<string, string>;
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
  errorCode?: string | null;
  steps: StepStats[];
  log?: LogLine[];
  schedule?: string | null;
}

export type ParameterType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

export interface ParameterDef {
  type: ParameterType;
  default?: string | number | boolean | null;
  required?: boolean;
  description?: string;
}

export interface StepEnd {
  connection: string;
  table?: string;
  query?: string;
  file?: string;
  request?: { url?: string; method?: string };
  format?: { type: string };
  mode?: string;
}

export interface TransferStep {
  name?: string;
  from: StepEnd;
  transforms?: { type: string }[];
  to: StepEnd;
}

export interface Flow {
  name: string;
  type: 'transfer' | 'sql' | 'pipeline';
  description?: string;
  parameters?: Record<string, ParameterDef>;
  steps?: TransferStep[];
  connection?: string;
  sql?: string;
  flows?: (string | { flow: string })[];
  timeout?: number;
  version: number;
  updatedAt: string;
  updatedBy: string | null;
}

export interface AuditEvent {
  id: number;
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  clientIp: string | null;
  durationMs: number | null;
  details: Record<string, unknown> | null;
  hash: string;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  brokenAt?: number;
  reason?: string;
}

/** The error body every failing API call answers (src/server/http-errors.ts). */
export interface ErrorBody {
  error?: { code?: string; message?: string; details?: { path: string; message: string }[] };
  status?: number;
  exception?: string;
}
