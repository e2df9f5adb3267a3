import { randomUUID } from 'node:crypto';
import type { AuditInput } from '../audit/audit-event.js';
import type { Run, RunRequest, RunStatus } from './run-types.js';

/** A new run record, not yet stored: `running` (started now) or `queued`. */
export function newRun(req: RunRequest, status: RunStatus): Run {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    flow: req.flow,
    trigger: req.trigger,
    status,
    params: req.params ?? {},
    requestedBy: req.requestedBy ?? null,
    parentId: req.parentId ?? null,
    schedule: req.schedule ?? null,
    lane: req.lane ?? null,
    attempt: 1,
    createdAt: now,
    startedAt: status === 'running' ? now : null,
    finishedAt: null,
    durationMs: null,
    rowsRead: 0,
    rowsWritten: 0,
    error: null,
    steps: [],
    log: [],
  };
}

/** The audit event of a run being queued, starting or finishing (docs/audit.md lists their details). */
export function runEvent(
  action: 'flow.run.queued' | 'flow.run.started' | 'flow.run.finished',
  run: Run,
  clientIp: string | null,
): AuditInput {
  const base = { action, actor: run.requestedBy, target: run.flow, clientIp };
  switch (action) {
    case 'flow.run.queued':
      return { ...base, outcome: 'success', details: { runId: run.id, trigger: run.trigger } };
    case 'flow.run.started':
      return {
        ...base,
        outcome: 'success',
        ...(run.startedAt ? { at: new Date(run.startedAt) } : {}),
        details: { runId: run.id, trigger: run.trigger, params: run.params },
      };
    case 'flow.run.finished':
      return {
        ...base,
        outcome: run.status === 'succeeded' ? 'success' : 'failure',
        durationMs: run.durationMs,
        details: {
          runId: run.id,
          trigger: run.trigger,
          status: run.status,
          params: run.params,
          rowsRead: run.rowsRead,
          rowsWritten: run.rowsWritten,
          ...(run.error ? { error: run.error } : {}),
        },
      };
  }
}
