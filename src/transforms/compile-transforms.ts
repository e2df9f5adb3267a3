/**
 * Chains the compiled transforms of a flow step into one stream function. Compiled once per flow
 * definition (expressions are parsed and compiled then, so definition errors surface before any row is
 * read); `apply` is called once per run. Memory: at most one batch is held per transform, except
 * dedupe's key set.
 *
 * Ownership: rows handed to `apply` belong to the chain from then on; cast and defaults convert
 * values in place instead of copying every row.
 */
import type { Column, Row, RowStream } from '../core/records.js';
import type { BatchFn, Stage } from './stage.js';

export interface CompiledTransforms {
  apply(stream: RowStream, params: Record<string, unknown>): RowStream;
  /** The same for rows already in memory, as one batch: no stream machinery (a listener call's body). */
  applyAll(rows: Row[], params: Record<string, unknown>): Row[];
  /** The destination's column layout for a given source layout; VALIDATION_FAILED on unknown columns. */
  outputColumns(input: Column[]): Column[];
}

export function chainStages(stages: readonly Stage[]): CompiledTransforms {
  return {
    apply(stream, params) {
      if (stages.length === 0) return stream;
      return run(stream, stages, params);
    },
    applyAll(rows, params) {
      return throughStages(started(stages, params), rows);
    },
    outputColumns(input) {
      return stages.reduce((columns, stage) => stage.outputColumns(columns), input);
    },
  };
}

/** The stages of one run, with the rows each has seen so far (for record numbers in error messages). */
interface Started {
  fns: BatchFn[];
  seen: number[];
}

function started(stages: readonly Stage[], params: Record<string, unknown>): Started {
  return { fns: stages.map((s) => s.start(params)), seen: stages.map(() => 0) };
}

/** One batch through every stage, in order; stops early once no rows are left. */
function throughStages({ fns, seen }: Started, batch: Row[]): Row[] {
  let rows = batch;
  for (let s = 0; s < fns.length && rows.length > 0; s++) {
    const count = rows.length;
    rows = fns[s]!(rows, seen[s]! + 1);
    seen[s]! += count;
  }
  return rows;
}

async function* run(stream: RowStream, stages: readonly Stage[], params: Record<string, unknown>): RowStream {
  const state = started(stages, params);
  for await (const batch of stream) {
    const rows = throughStages(state, batch);
    if (rows.length > 0) yield rows;
  }
}
