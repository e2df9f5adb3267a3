/**
 * What a transfer step's `from` and `to` ask of their connectors: the SourceSpec and DestinationSpec,
 * names expanded from the parameters and formats taken from the file extension when not given.
 */
import type { DestinationSpec, SourceSpec } from '../connectors/connector.js';
import { AppError } from '../core/errors.js';
import type { Column } from '../core/records.js';
import type { StepSource, StepTarget } from './flow-schema.js';
import { expandName } from './parameters.js';
import type { StepEnv } from './step-env.js';

type FormatRef = NonNullable<StepSource['format']>;

/** The fields of a destination: a step's `to`, or the `to.responses` its answers go to. */
export type TargetFields = Pick<StepTarget, 'table' | 'file' | 'format' | 'mode' | 'keys' | 'create'> &
  Partial<Pick<StepTarget, 'request' | 'message'>>;

function formatOf(
  explicit: FormatRef | undefined,
  file: string | undefined,
  env: StepEnv,
  path: string,
): FormatRef {
  if (explicit) return explicit;
  const ext = file?.split('.').pop()?.toLowerCase() ?? '';
  const f = env.formats.forExtension(ext);
  if (!f)
    throw new AppError(
      'VALIDATION_FAILED',
      `${path}.format is required: cannot tell the format of '${file}'`,
    );
  return { type: f.type };
}

export function sourceSpec(from: StepSource, env: StepEnv, path: string): SourceSpec {
  if (from.request !== undefined)
    return { request: from.request, params: env.params, ...(from.format ? { format: from.format } : {}) };
  if (from.query !== undefined) return { query: from.query, params: env.params };
  if (from.table !== undefined)
    return { table: expandName(from.table, env.params, 'table', `${path}.table`) };
  if (from.file !== undefined) {
    const file = expandName(from.file, env.params, 'file', `${path}.file`);
    return { file, format: formatOf(from.format, file, env, path) };
  }
  throw new AppError('VALIDATION_FAILED', `${path} needs one of table, query, file or request`);
}

export function destinationSpec(
  to: TargetFields,
  columns: Column[],
  env: StepEnv,
  path: string,
): DestinationSpec {
  const base = {
    mode: to.mode ?? 'append',
    columns,
    create: to.create ?? true,
    ...(to.keys ? { keys: to.keys } : {}),
    ...(env.commit
      ? { commit: { runId: env.commit.runId, step: env.commit.step, attempt: env.commit.attempt } }
      : {}),
  };
  if (to.request !== undefined)
    return {
      ...base,
      request: to.request,
      params: env.params,
      ...(to.format ? { format: to.format } : {}),
      ...(env.runId ? { run: { id: env.runId, step: env.step ?? 0 } } : {}),
    };
  if (to.message !== undefined)
    return {
      ...base,
      message: to.message,
      params: env.params,
      ...(to.format ? { format: to.format } : {}),
      ...(env.runId ? { run: { id: env.runId, step: env.step ?? 0 } } : {}),
    };
  if (to.table !== undefined)
    return { ...base, table: expandName(to.table, env.params, 'table', `${path}.table`) };
  if (to.file !== undefined) {
    const file = expandName(to.file, env.params, 'file', `${path}.file`);
    return { ...base, file, format: formatOf(to.format, file, env, path) };
  }
  throw new AppError('VALIDATION_FAILED', `${path} needs table, file, request or message`);
}
