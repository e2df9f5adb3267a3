/** `filter`: keeps the rows for which `where` is truthy. */
import { type Static, Type } from '@sinclair/typebox';
import { analyzeExpression } from './expression.js';
import { truthy } from './expression-values.js';
import { keyPath, recordError, requireColumns, type Stage } from './stage.js';
import { defineTransform } from './transform-type.js';

export const FilterTransform = Type.Object(
  {
    type: Type.Literal('filter'),
    where: Type.String({ minLength: 1, description: 'Expression; rows where it is truthy are kept.' }),
  },
  { additionalProperties: false, title: 'filter' },
);
export type FilterTransform = Static<typeof FilterTransform>;

export function compileFilter(def: FilterTransform, path: string): Stage {
  const wherePath = keyPath(path, 'where');
  const expr = analyzeExpression(def.where, wherePath);
  return {
    start(params) {
      const test = expr.evaluate;
      return (batch, firstRecord) => {
        const out = [];
        for (let i = 0; i < batch.length; i++) {
          const row = batch[i]!;
          let keep: unknown;
          try {
            keep = test(row, params);
          } catch (err) {
            throw recordError(wherePath, firstRecord + i, 'where', err);
          }
          if (truthy(keep)) out.push(row);
        }
        return out.length === batch.length ? batch : out;
      };
    },
    outputColumns(input) {
      requireColumns(input, expr.columns, wherePath, 'column');
      return input;
    },
  };
}

export const filterTransform = defineTransform({
  type: 'filter',
  schema: FilterTransform,
  compile: compileFilter,
});
