/**
 * `map`: reshapes rows. Every name in a map step refers to the columns as they arrive, plus the
 * computed ones; the steps apply in this fixed order:
 *   1. compute  — evaluate each expression on the incoming row; a new name is appended, an existing
 *                 name is replaced in place (expressions never see each other's results);
 *   2. select   — keep only the listed columns, in the listed order;
 *   3. exclude  — drop the listed columns;
 *   4. rename   — give the remaining columns their new names.
 * Use a second map step to build on renamed or computed columns.
 */
import { type Static, Type } from '@sinclair/typebox';
import { type Column, fieldOf, type Row, setField } from '../core/records.js';
import { type AnalyzedExpression, analyzeExpression } from './expression.js';
import { invalid, keyPath, recordError, requireColumns, type Stage } from './stage.js';
import { defineTransform } from './transform-type.js';

const Name = Type.String({ minLength: 1 });

export const MapTransform = Type.Object(
  {
    type: Type.Literal('map'),
    compute: Type.Optional(
      Type.Record(Name, Type.String({ minLength: 1 }), {
        description: 'New or replaced column to expression.',
      }),
    ),
    select: Type.Optional(Type.Array(Name, { description: 'Columns to keep, in output order.' })),
    exclude: Type.Optional(Type.Array(Name, { description: 'Columns to drop.' })),
    rename: Type.Optional(Type.Record(Name, Name, { description: 'Old column name to new name.' })),
  },
  { additionalProperties: false, title: 'map' },
);
export type MapTransform = Static<typeof MapTransform>;

interface Computed {
  name: string;
  path: string;
  expr: AnalyzedExpression;
}

export function compileMap(def: MapTransform, path: string): Stage {
  const computePath = keyPath(path, 'compute');
  const computed: Computed[] = Object.entries(def.compute ?? {}).map(([name, source]) => {
    const p = keyPath(computePath, name);
    return { name, path: p, expr: analyzeExpression(source, p) };
  });
  const computedIndex = new Map(computed.map((c, i) => [c.name, i]));
  const rename = new Map(Object.entries(def.rename ?? {}));
  const excluded = new Set(def.exclude ?? []);
  const targets = [...rename.values()];
  const duplicate = targets.find((t, i) => targets.indexOf(t) !== i);
  if (duplicate !== undefined)
    throw invalid(keyPath(path, 'rename'), `two columns are renamed to '${duplicate}'`);

  // Most columns pass through untouched; one Set lookup decides that, instead of three Map lookups.
  const touched = new Set([...excluded, ...computedIndex.keys(), ...rename.keys()]);

  /** With `select`, the output keys are known up front: a fixed plan of (source, output name). */
  const plan = def.select
    ?.filter((name) => !excluded.has(name))
    .map((name) => ({ from: name, to: rename.get(name) ?? name, computed: computedIndex.get(name) ?? -1 }));

  const evaluateAll = (row: Row, params: Record<string, unknown>, record: number, values: unknown[]) => {
    for (let c = 0; c < computed.length; c++) {
      const item = computed[c]!;
      try {
        values[c] = item.expr.evaluate(row, params);
      } catch (err) {
        throw recordError(item.path, record, item.name, err);
      }
    }
  };

  return {
    start(params) {
      const values: unknown[] = new Array(computed.length);
      if (plan) {
        return (batch, firstRecord) => {
          const out: Row[] = new Array(batch.length);
          for (let i = 0; i < batch.length; i++) {
            const row = batch[i]!;
            evaluateAll(row, params, firstRecord + i, values);
            const next: Row = {};
            for (const step of plan) {
              const v = step.computed >= 0 ? values[step.computed] : fieldOf(row, step.from);
              setField(next, step.to, v === undefined ? null : v);
            }
            out[i] = next;
          }
          return out;
        };
      }
      return (batch, firstRecord) => {
        const out: Row[] = new Array(batch.length);
        for (let i = 0; i < batch.length; i++) {
          const row = batch[i]!;
          evaluateAll(row, params, firstRecord + i, values);
          const next: Row = {};
          for (const key in row) {
            if (!touched.has(key)) {
              setField(next, key, row[key]);
              continue;
            }
            if (excluded.has(key)) continue;
            const c = computedIndex.get(key);
            setField(next, rename.get(key) ?? key, c === undefined ? row[key] : values[c]);
          }
          for (let c = 0; c < computed.length; c++) {
            const name = computed[c]!.name;
            if (!excluded.has(name) && !Object.hasOwn(row, name))
              setField(next, rename.get(name) ?? name, values[c]);
          }
          out[i] = next;
        }
        return out;
      };
    },

    outputColumns(input) {
      const byName = new Map(input.map((c) => [c.name, c]));
      let columns: Column[] = [...input];
      for (const item of computed) {
        requireColumns(input, item.expr.columns, item.path, 'column');
        const column: Column = {
          name: item.name,
          type: item.expr.type((n) => byName.get(n)?.type),
          nullable: true,
        };
        const at = columns.findIndex((c) => c.name === item.name);
        if (at >= 0) columns[at] = column;
        else columns.push(column);
      }
      if (def.select) {
        requireColumns(columns, def.select, keyPath(path, 'select'), 'column');
        const current = new Map(columns.map((c) => [c.name, c]));
        columns = def.select.map((name) => current.get(name)!);
      }
      if (def.exclude) {
        requireColumns(columns, def.exclude, keyPath(path, 'exclude'), 'column');
        columns = columns.filter((c) => !excluded.has(c.name));
      }
      requireColumns(columns, rename.keys(), keyPath(path, 'rename'), 'column');
      columns = columns.map((c) => {
        const to = rename.get(c.name);
        return to === undefined ? c : { ...c, name: to };
      });
      const names = columns.map((c) => c.name);
      const clash = names.find((n, i) => names.indexOf(n) !== i);
      if (clash !== undefined)
        throw invalid(keyPath(path, 'rename'), `two output columns are named '${clash}'`);
      return columns;
    },
  };
}

export const mapTransform = defineTransform({ type: 'map', schema: MapTransform, compile: compileMap });
