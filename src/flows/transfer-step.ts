import { inferColumns } from '../connectors/columns.js';
import type { SourceSpec, Writer } from '../connectors/connector.js';
import type { MessageKeys } from '../connectors/message-keys.js';
import { AppError, errorMessage } from '../core/errors.js';
import { type Column, oneBatch, type RowStream } from '../core/records.js';
import { CsvFastPathRefused } from '../formats/csv-byte-guard.js';
import { agreeCsvDialect } from '../formats/csv-dialect.js';
import type { CompiledTransforms } from '../transforms/compile-transforms.js';
import type { StepStats } from './engine-types.js';
import {
  MESSAGE_SOURCE,
  REQUEST_SOURCE,
  RESPONSE_TARGET,
  type StepSource,
  type TransferStep,
} from './flow-schema.js';
import { messageRows } from './message-source.js';
import { usesParameters } from './parameters.js';
import { counted, peek, prefetch, prepend } from './row-stages.js';
import type { StepEnv } from './step-env.js';
import { type StepResponses, startResponses } from './step-responses.js';
import { destinationSpec, sourceSpec } from './step-specs.js';

async function openSource(
  step: TransferStep,
  env: StepEnv,
  path: string,
): Promise<{ columns?: Column[]; batches: RowStream }> {
  if (step.from.connection === REQUEST_SOURCE) {
    // (Rows already parsed, io.requestRows, never get here: moveRows writes them as one batch.)
    const io = env.io;
    if (!io?.request)
      throw new AppError(
        'BAD_REQUEST',
        `${path}: ${REQUEST_SOURCE} is only available when a listener runs the flow`,
      );
    const format = env.formats.bind(step.from.format ?? io.request.format);
    return { batches: format.read(io.request.body, { source: io.request.source, signal: env.signal }) };
  }
  const connector = await env.pool.get(step.from.connection);
  const spec = sourceSpec(step.from, env, `${path}.from`);
  // A listener answering one object takes one row; without transforms (a filter could drop it) the
  // source need not fetch more.
  const maxRows = env.io?.responseRows;
  if (maxRows !== undefined && step.to.connection === RESPONSE_TARGET && !step.transforms?.length)
    spec.maxRows = maxRows;
  return connector.read(spec, env.signal).catch(blameParameters(step.from, spec));
}

/**
 * A missing file whose name came from parameters is the caller's miss (a data API asked for a file that
 * is not there, 404), not the server's fault; the error names the file as the flow resolved it, not
 * the folder it looked in.
 */
function blameParameters(from: StepSource, spec: SourceSpec): (err: unknown) => never {
  return (err) => {
    if (
      from.file !== undefined &&
      usesParameters(from.file) &&
      err instanceof AppError &&
      err.code === 'NOT_FOUND'
    )
      throw new AppError(
        'PARAMETER_NOT_FOUND',
        `File '${'file' in spec ? spec.file : from.file}' (${from.file} with the parameters given) does not exist`,
        { cause: err },
      );
    throw err;
  };
}

/**
 * Tries the byte path: source bytes straight into the destination (COPY to COPY, file to COPY, COPY to
 * file) when no transform needs the values. Returns undefined when it does not apply.
 */
async function tryCopyPath(
  step: TransferStep,
  env: StepEnv,
  stats: StepStats,
  path: string,
): Promise<boolean> {
  if ((step.transforms?.length ?? 0) > 0) return false;
  if (step.from.connection.startsWith('@') || step.to.connection.startsWith('@')) return false;
  const from = step.from;
  const source = await env.pool.get(from.connection);
  const target = await env.pool.get(step.to.connection);
  const { copyOut } = source;
  const { copyIn } = target;
  if (!copyOut || !copyIn) return false;
  const spec = sourceSpec(from, env, `${path}.from`);
  // Names are expanded (and checked) before the copy stream opens, so a bad one cannot strand it.
  const draft = destinationSpec(step.to, [], env, `${path}.to`);
  // Each side says which CSV it speaks for this source or destination; bytes go through untouched only
  // when they agree.
  const outOffer = copyOut.dialect(spec);
  const inOffer = outOffer && copyIn.dialect(draft);
  const dialect = outOffer && inOffer ? agreeCsvDialect(outOffer, inOffer) : undefined;
  if (!dialect) return false;
  // Bytes replace a file, or fill one that is missing or empty; appending to lines or upserting needs rows.
  if (copyIn.ready && !(await copyIn.ready(draft))) return false;
  const out = await copyOut.read(spec, dialect, env.signal).catch(blameParameters(from, spec));
  const dest = { ...draft, columns: out.columns };
  stats.path = 'copy';
  const written = await copyIn.write(dest, out.bytes, dialect, env.signal).catch((err: unknown) => {
    // Bytes the destination's loader would read otherwise than the row path: it rolled back, and the
    // step runs again on the row path.
    if (err instanceof CsvFastPathRefused) return undefined;
    // The destination reports the failure; say which file the bad bytes came from (a format error
    // names it already).
    if (from.file === undefined || !(err instanceof AppError) || err.code === 'FORMAT_ERROR') throw err;
    throw new AppError(err.code, `${from.file}: ${err.message}`, { cause: err });
  });
  if (written === undefined) {
    delete stats.path;
    return false;
  }
  const { rowsWritten } = written;
  stats.rowsRead = rowsWritten;
  stats.rowsWritten = rowsWritten;
  return true;
}

/** Runs one FROM → transforms → TO step. The destination commits once, at the end, or not at all. */
export async function runTransferStep(step: TransferStep, index: number, env: StepEnv): Promise<StepStats> {
  const path = `steps[${index}]`;
  const stats: StepStats = {
    name: step.name ?? `step ${index + 1}`,
    status: 'running',
    rowsRead: 0,
    rowsWritten: 0,
    startedAt: new Date().toISOString(),
  };
  const started = performance.now();
  try {
    if (await committedBefore(step, env, stats)) return stats;
    if (await tryCopyPath(step, env, stats, path)) {
      env.log('info', `${stats.name}: copied ${stats.rowsWritten} rows straight through`);
    } else {
      stats.path = 'rows';
      await moveRows(step, env, stats, path);
      env.log('info', `${stats.name}: read ${stats.rowsRead} rows, wrote ${stats.rowsWritten}`);
    }
    stats.status = 'succeeded';
    return stats;
  } catch (err) {
    stats.status = env.signal.aborted ? 'cancelled' : 'failed';
    stats.error = errorMessage(err);
    // The destination rolled back: whatever was counted on the way in did not land.
    stats.rowsWritten = 0;
    throw err;
  } finally {
    stats.durationMs = Math.round(performance.now() - started);
    env.progress(stats);
  }
}

/**
 * For a run executing again: whether an earlier execution committed this step already (its
 * destination recorded it), in which case the step is done, with the rows that commit wrote.
 */
async function committedBefore(step: TransferStep, env: StepEnv, stats: StepStats): Promise<boolean> {
  const mark = env.commit;
  if (!mark?.recheck || step.to.connection.startsWith('@')) return false;
  const target = await env.pool.get(step.to.connection);
  const recorded = await target.commits?.find(mark.runId, mark.step);
  if (!recorded) return false;
  stats.rowsRead = recorded.rowsWritten;
  stats.rowsWritten = recorded.rowsWritten;
  stats.status = 'succeeded';
  env.log(
    'info',
    `${stats.name}: committed already by attempt ${recorded.attempt} at ${recorded.committedAt} (${recorded.rowsWritten} rows); not written again`,
  );
  return true;
}

/**
 * Compiled transforms by step: a step object belongs to one validated flow version (the engine caches
 * those), so its expressions are compiled once, not once per run.
 */
const compiled = new WeakMap<TransferStep, CompiledTransforms>();

function transformsOf(step: TransferStep, env: StepEnv, path: string): CompiledTransforms {
  let t = compiled.get(step);
  if (!t) {
    t = env.transforms.compile(step.transforms ?? [], `${path}.transforms`);
    compiled.set(step, t);
  }
  return t;
}

async function moveRows(step: TransferStep, env: StepEnv, stats: StepStats, path: string): Promise<void> {
  const transforms = transformsOf(step, env, path);
  let inMemory = step.from.connection === REQUEST_SOURCE ? env.io?.requestRows : undefined;
  let dedupe: MessageKeys | undefined;
  if (step.from.connection === MESSAGE_SOURCE) {
    const batch = await messageRows(step, env, path);
    // Every message of the batch was written before: there is nothing to write or record.
    if (batch.dedupe && batch.rows.length === 0) return;
    inMemory = batch.rows;
    dedupe = batch.dedupe;
  }
  if (inMemory) {
    // A listener call's rows are all here already: transform and write them as one batch, without the
    // stream stages (read-ahead, counting, peeking) a source of unknown length needs.
    stats.rowsRead = inMemory.length;
    const columns = outputColumnsOf(transforms, inferColumns(inMemory));
    // Transforms may convert values in place (cast, defaults); another step of the flow may read the
    // same body, so it gets the rows as they came, not as this step left them.
    const input = (step.transforms?.length ?? 0) > 0 ? inMemory.map((r) => ({ ...r })) : inMemory;
    const rows = transforms.applyAll(input, env.params);
    if (step.to.connection === RESPONSE_TARGET) {
      await respond(env, path, oneBatch(rows));
      stats.rowsWritten = rows.length;
      return;
    }
    stats.rowsWritten = await writeCommitted(
      step,
      env,
      columns,
      true,
      path,
      async (writer) => {
        if (rows.length > 0) await writer.write(rows);
      },
      dedupe,
    );
    return;
  }
  const source = await openSource(step, env, path);
  const { first, rest, close } = await peek(counted(prefetch(source.batches), stats, 'rowsRead', env));
  try {
    await writeRows(
      step,
      env,
      stats,
      path,
      transforms,
      source.columns ?? inferColumns(first),
      source.columns === undefined,
      prepend(first, rest),
    );
  } finally {
    await close();
  }
}

async function writeRows(
  step: TransferStep,
  env: StepEnv,
  stats: StepStats,
  path: string,
  transforms: CompiledTransforms,
  inputColumns: Column[],
  inferred: boolean,
  rows: RowStream,
): Promise<void> {
  const outputColumns = outputColumnsOf(transforms, inputColumns);
  const transformed = counted(transforms.apply(rows, env.params), stats, 'rowsWritten', env);

  if (step.to.connection === RESPONSE_TARGET) {
    await respond(env, path, transformed);
    return;
  }
  stats.rowsWritten = await writeCommitted(step, env, outputColumns, inferred, path, async (writer) => {
    for await (const batch of transformed) {
      if (batch.length > 0) await writer.write(batch);
    }
  });
}

/**
 * The columns the destination gets. A source that told no columns and sent no rows (an empty body, a
 * file with a header line only) has unknown columns, not none: the transforms cannot be checked against
 * them, and there is nothing for them to fail on.
 */
function outputColumnsOf(transforms: CompiledTransforms, input: Column[]): Column[] {
  return input.length === 0 ? [] : transforms.outputColumns(input);
}

/** Hands the step's rows to the listener that answers with them. */
async function respond(env: StepEnv, path: string, rows: RowStream): Promise<void> {
  if (!env.io?.response)
    throw new AppError('BAD_REQUEST', `${path}.to: ${RESPONSE_TARGET} is only available to a listener`);
  await env.io.response(rows);
}

/** Opens the step's destination, lets `fill` write into it, then commits; rolls back if anything fails. */
async function writeCommitted(
  step: TransferStep,
  env: StepEnv,
  columns: Column[],
  inferred: boolean,
  path: string,
  fill: (writer: Writer) => Promise<void>,
  dedupe?: MessageKeys,
): Promise<number> {
  const target = await env.pool.get(step.to.connection);
  const spec = destinationSpec(step.to, columns, env, `${path}.to`);
  if (dedupe) spec.dedupe = dedupe;
  if (inferred) spec.columnsInferred = true;
  let responses: StepResponses | undefined;
  const opened = async () => {
    responses = await startResponses(step, env, path);
    if (responses) spec.answers = responses.sink;
    return target.writer(spec, env.signal);
  };
  const writer = await opened().catch(async (err: unknown) => {
    await responses?.abort(err);
    throw err;
  });
  try {
    await fill(writer);
    const { rowsWritten } = await writer.commit();
    if (responses) {
      const kept = await responses.finish();
      env.log('info', `${path}.to.responses: ${kept} answers written`);
    }
    return rowsWritten;
  } catch (err) {
    await responses?.abort(err);
    await writer
      .rollback()
      .catch((rollbackErr: unknown) => env.log('error', `rollback failed: ${errorMessage(rollbackErr)}`));
    const left = writer.leftBehind?.();
    if (left) env.log('warn', `${path}.to: ${left}`);
    throw err;
  }
}
