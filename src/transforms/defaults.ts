/** `defaults`: fills a column when its value is null, missing or the empty string. */
import { type Static, Type } from '@sinclair/typebox';
import { type Column, type ColumnType, fieldOf, setField } from '../core/records.js';
import type { Stage } from './stage.js';
import { defineTransform } from './transform-type.js';

export const DefaultsTransform = Type.Object(
  {
    type: Type.Literal('defaults'),
    values: Type.Record(
      Type.String({ minLength: 1 }),
      Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
      {
        description: 'Column name to the value used when the column is null, missing or empty.',
      },
    ),
  },
  { additionalProperties: false, title: 'defaults' },
);
export type DefaultsTransform = Static<typeof DefaultsTransform>;

function typeOf(value: string | number | boolean): ColumnType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return 'text';
}

export function compileDefaults(def: DefaultsTransform): Stage {
  const entries = Object.entries(def.values);
  return {
    start() {
      return (batch) => {
        // Rows are owned by the transform chain, so values are filled in place: no per-row copy.
        for (const row of batch) {
          for (const [column, value] of entries) {
            const v = fieldOf(row, column);
            if (v === null || v === undefined || v === '') setField(row, column, value);
          }
        }
        return batch;
      };
    },
    outputColumns(input) {
      const out: Column[] = input.map((c) =>
        Object.hasOwn(def.values, c.name) ? { ...c, nullable: false } : c,
      );
      for (const [name, value] of entries) {
        if (!input.some((c) => c.name === name)) out.push({ name, type: typeOf(value), nullable: false });
      }
      return out;
    },
  };
}

export const defaultsTransform = defineTransform({
  type: 'defaults',
  schema: DefaultsTransform,
  compile: compileDefaults,
});
