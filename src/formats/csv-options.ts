/**
 * The options of the CSV format, read by its reader and its writer alike (and by a connector
 * that reads CSV bytes itself); one schema serves validation, the TypeScript type and the docs.
 */
import { type Static, Type } from '@sinclair/typebox';
import { textOptions } from './text.js';

const Char = (def: string, description: string) =>
  Type.String({ minLength: 1, maxLength: 1, default: def, description });

export const CsvOptionsSchema = Type.Object(
  {
    delimiter: Char(',', 'Field separator, one character (";" and "\\t" are common).'),
    quote: Char('"', 'Character that encloses fields containing separators, quotes or line breaks.'),
    escape: Char('"', 'Character that escapes a quote inside a quoted field (the quote itself by default).'),
    header: Type.Boolean({ default: true, description: 'The first line holds the column names.' }),
    columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description:
          'Column names. With header=false they name the fields (default col1..colN); with header=true they replace the header names.',
      }),
    ),
    nullValue: Type.String({
      default: '',
      description:
        'Unquoted text that means null. Default: an empty unquoted field is null, while "" (quoted) is an empty string.',
    }),
    distinguishQuoted: Type.Boolean({
      default: true,
      description:
        'Keep a quoted field equal to nullValue (e.g. "") as text rather than null. Free (the reader knows which fields were quoted); false makes every field equal to nullValue null.',
    }),
    lenientQuotes: Type.Boolean({
      default: false,
      description:
        'Read a quote inside an unquoted field (5\'11" tall) as text instead of failing with its line number. Such files take the row path.',
    }),
    ...textOptions,
    skipEmptyLines: Type.Boolean({ default: true, description: 'Ignore lines with no characters.' }),
    trim: Type.Boolean({ default: false, description: 'Remove spaces around unquoted fields.' }),
    recordDelimiter: Type.Union([Type.Literal('\n'), Type.Literal('\r\n')], {
      default: '\n',
      description: 'Line ending written after each record (reading accepts both).',
    }),
  },
  { additionalProperties: false },
);

export type CsvOptions = Static<typeof CsvOptionsSchema>;
