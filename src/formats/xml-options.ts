/**
 * The options of the XML format, read by its reader and its writer alike (and by a connector
 * that reads XML bytes itself); one schema serves validation, the TypeScript type and the docs.
 */
import { type Static, Type } from '@sinclair/typebox';
import { textOptions } from './text.js';

export const XmlOptionsSchema = Type.Object(
  {
    recordPath: Type.Optional(
      Type.String({
        pattern: '^/?[^/]+(/[^/]+)*$',
        description:
          'Element names from the root down to the record element, e.g. "patients/patient"; "*" matches any name. Default: every child element of the root is a record.',
      }),
    ),
    attributePrefix: Type.String({
      default: '',
      description: 'Prefix put before attribute names to tell them from child elements (e.g. "@").',
    }),
    textKey: Type.String({
      default: '#text',
      description: 'Field that holds the text of an element that also has attributes or children.',
    }),
    emptyAsNull: Type.Boolean({
      default: true,
      description: 'An element with no text, attributes or children (<a/> or <a></a>) reads as null.',
    }),
    ...textOptions,
    rootElement: Type.String({
      default: 'records',
      minLength: 1,
      description: 'Root element name when writing.',
    }),
    recordElement: Type.String({
      default: 'record',
      minLength: 1,
      description: 'Record element name when writing.',
    }),
  },
  { additionalProperties: false },
);

export type XmlOptions = Static<typeof XmlOptionsSchema>;
