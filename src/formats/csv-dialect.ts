/**
 * CSV dialects as data. Each byte fast path of a connector (copyIn, copyOut) states the CSV it reads or
 * writes for a given source or destination; the flow engine compares the two sides here, knowing
 * nothing of either connector, and sends bytes straight through only when both speak the same CSV.
 */
import type { Encoding } from './text.js';

/** Everything that decides how CSV bytes read as fields. */
export interface CsvDialect {
  delimiter: string;
  quote: string;
  escape: string;
  /** Unquoted text that means null (a quoted one is text). */
  nullValue: string;
  /** The first line holds the column names. */
  header: boolean;
  encoding: Encoding;
}

/** RFC 4180 with a header line, null as an empty unquoted field, in UTF-8: what COPY ... CSV speaks by default. */
export const PLAIN_CSV: Readonly<CsvDialect> = {
  delimiter: ',',
  quote: '"',
  escape: '"',
  nullValue: '',
  header: true,
  encoding: 'utf8',
};

/** What a copy path says about one source or destination. */
export interface CsvDialectOffer {
  /** The CSV it reads or writes when not told otherwise (a file's own dialect, a database's default). */
  readonly dialect: Readonly<CsvDialect>;
  /** Fields it can be told to take from the other side (COPY and LOAD DATA take them as options). */
  readonly adapts: readonly (keyof CsvDialect)[];
  /** Narrows what it adapts to: false for a dialect it cannot carry exactly. */
  readonly accepts?: (dialect: Readonly<CsvDialect>) => boolean;
}

const FIELDS: readonly (keyof CsvDialect)[] = [
  'delimiter',
  'quote',
  'escape',
  'nullValue',
  'header',
  'encoding',
];

/** The dialect with PLAIN_CSV's values where `partial` leaves one out. */
export function fullCsvDialect(partial: Partial<CsvDialect>): CsvDialect {
  const quote = partial.quote ?? PLAIN_CSV.quote;
  return {
    delimiter: partial.delimiter ?? PLAIN_CSV.delimiter,
    quote,
    escape: partial.escape ?? quote,
    nullValue: partial.nullValue ?? PLAIN_CSV.nullValue,
    header: partial.header ?? PLAIN_CSV.header,
    encoding: partial.encoding ?? PLAIN_CSV.encoding,
  };
}

export function sameCsvDialect(a: Partial<CsvDialect>, b: Partial<CsvDialect>): boolean {
  const x = fullCsvDialect(a);
  const y = fullCsvDialect(b);
  return FIELDS.every((k) => x[k] === y[k]);
}

/** Whether `offer` reads or writes `dialect`: its own, or one differing only in fields it adapts. */
export function offerTakes(offer: CsvDialectOffer, dialect: Partial<CsvDialect>): boolean {
  const d = fullCsvDialect(dialect);
  if (offer.accepts && !offer.accepts(d)) return false;
  return FIELDS.every((k) => offer.dialect[k] === d[k] || offer.adapts.includes(k));
}

/** A one-byte ASCII character that is not a line break. */
function oneByte(ch: string): boolean {
  return ch.length === 1 && ch.charCodeAt(0) < 0x80 && ch !== '\r' && ch !== '\n';
}

/**
 * Whether bytes in this dialect can travel a copy path at all. The paths split the header line and
 * count records on UTF-8 bytes, and COPY takes one-byte delimiter, quote and escape characters and
 * refuses a null text containing the delimiter or the quote (a line break would split records).
 */
export function carriedCsvDialect(d: CsvDialect): boolean {
  if (d.encoding !== 'utf8') return false;
  if (!oneByte(d.delimiter) || !oneByte(d.quote) || !oneByte(d.escape) || d.delimiter === d.quote)
    return false;
  return ![d.delimiter, d.quote, '\r', '\n'].some((c) => d.nullValue.includes(c));
}

/**
 * The dialect both sides of a copy speak, or undefined when they speak none in common (the engine then
 * takes the row path). A side that cannot adapt sets it; when both can, the source's own wins.
 */
export function agreeCsvDialect(source: CsvDialectOffer, target: CsvDialectOffer): CsvDialect | undefined {
  let dialect: CsvDialect | undefined;
  if (offerTakes(target, source.dialect)) dialect = { ...source.dialect };
  else if (offerTakes(source, target.dialect)) dialect = { ...target.dialect };
  return dialect && carriedCsvDialect(dialect) ? dialect : undefined;
}
