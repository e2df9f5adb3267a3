/**
 * The options of the JSON format, read by its reader and its writer alike (and by a connector
 * that reads JSON bytes itself); one schema serves validation, the TypeScript type and the docs.
 */
import { type Static, Type } from '@sinclair/typebox';
import { textOptions } from './text.js';

export const JsonOptionsSchema = Type.Object(
  {
    recordPath: Type.Optional(
      Type.String({
        pattern: '^[^.]+(\\.[^.]+)*$',
        description:
          'Dot-separated keys leading to the records inside the document, e.g. "data.items". The value there may be an array of objects or one object. Default: the root (an array of objects, or one object).',
      }),
    ),
    ...textOptions,
    pretty: Type.Boolean({
      default: false,
      description: 'Write indented JSON (one record per line otherwise).',
    }),
  },
  { additionalProperties: false },
);

export type JsonOptions = Static<typeof JsonOptionsSchema>;
