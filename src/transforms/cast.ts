/**
 * `cast`: converts columns to a type with strict rules (see convert.ts): `"12"` becomes 12 but
 * `"12x"` fails the run naming the record and column, unless `onError: null` asks for null instead.
 */
import { type Static, Type } from '@sinclair/typebox';
import { COLUMN_TYPES, fieldOf, setField } from '../core/records.js';
import { CONVERTERS } from './convert.js';
import { keyPath, recordError, requireColumns, type Stage } from './stage.js';
import { defineTransform } from './transform-type.js';

export const ColumnTypeSchema = Type.Union(
  COLUMN_TYPES.map((t) => Type.Literal(t)),
  { description: 'Logical column type.' },
);

export const CastTransform = Type.Object(
  {
    type: Type.Literal('cast'),
    columns: Type.Record(Type.String({ minLength: 1 }), ColumnTypeSchema, {
      description: 'Column name to target type.',
    }),
    onError: Type.Optional(
      Type.Union([Type.Literal('fail'), Type.Literal('null')], {
        default: 'fail',
        description: 'fail: stop the run on a value that does not convert; null: store null instead.',
      }),
    ),
  },
  { additionalProperties: false, title: 'cast' },
);
export type CastTransform = Static<typeof CastTransform>;

export function compileCast(def: CastTransform, path: string): Stage {
  const targets = Object.entries(def.columns).map(([column, type]) => ({
    column,
    type,
    convert: CONVERTERS[type],
    path: keyPath(keyPath(path, 'columns'), column),
  }));
  const lenient = def.onError === 'null';
  return {
    start() {
      return (batch, firstRecord) => {
        // In place: the chain owns its rows, and a copy per row would dominate the cost of a cast.
        for (let i = 0; i < batch.length; i++) {
          const row = batch[i]!;
          for (const t of targets) {
            try {
              setField(row, t.column, t.convert(fieldOf(row, t.column)));
            } catch (err) {
              if (!lenient) throw recordError(path, firstRecord + i, t.column, err);
              setField(row, t.column, null);
            }
          }
        }
        return batch;
      };
    },
    outputColumns(input) {
      requireColumns(
        input,
        targets.map((t) => t.column),
        keyPath(path, 'columns'),
        'column',
      );
      return input.map((c) => {
        const type = def.columns[c.name];
        return type !== undefined && Object.hasOwn(def.columns, c.name) ? { ...c, type } : c;
      });
    },
  };
}

export const castTransform = defineTransform({ type: 'cast', schema: CastTransform, compile: compileCast });
