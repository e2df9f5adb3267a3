import { describe, expect, it } from 'vitest';
import { fileCsvOffer } from '../../src/connectors/files/csv-fast-path.js';
import { filesConnector } from '../../src/connectors/files/index.js';
import { parseMysqlConfig } from '../../src/connectors/mysql/mysql-config.js';
import { createMysqlConnector } from '../../src/connectors/mysql/mysql-connector.js';
import { parsePostgresConfig } from '../../src/connectors/postgres/postgres-config.js';
import { createPostgresConnector } from '../../src/connectors/postgres/postgres-connector.js';
import {
  agreeCsvDialect,
  type CsvDialectOffer,
  PLAIN_CSV,
  sameCsvDialect,
} from '../../src/formats/csv-dialect.js';
import { connectorContext } from '../helpers/connector-context.js';

const ctx = connectorContext('/tmp');

/** The offers the connectors advertise, read off real connector instances (no connection is opened). */
function offers() {
  const pg = createPostgresConnector(parsePostgresConfig({ url: 'postgres://127.0.0.1:1/none' }));
  const my = createMysqlConnector(parseMysqlConfig({ url: 'mysql://127.0.0.1:1/none' }));
  const files = filesConnector.create({ root: 'x' }, ctx);
  const file = (options?: Record<string, unknown>) => ({
    type: 'csv' as const,
    ...(options ? { options } : {}),
  });
  return {
    pgOut: pg.copyOut?.dialect({ table: 't' }),
    pgIn: pg.copyIn?.dialect({ table: 't', mode: 'append', columns: [] }),
    myIn: my.copyIn?.dialect({ table: 't', mode: 'append', columns: [] }),
    fileOut: (options?: Record<string, unknown>, name = 'a.csv') =>
      files.copyOut?.dialect({ file: name, format: file(options) }),
    fileIn: (options?: Record<string, unknown>) =>
      files.copyIn?.dialect({ file: 'b.csv', format: file(options), mode: 'replace', columns: [] }),
    close: async () => {
      await pg.close();
      await my.close();
    },
  };
}

describe('CSV dialect agreement', () => {
  it('databases speak plain CSV to each other', async () => {
    const o = offers();
    expect(agreeCsvDialect(o.pgOut!, o.pgIn!)).toEqual(PLAIN_CSV);
    expect(agreeCsvDialect(o.pgOut!, o.myIn!)).toEqual(PLAIN_CSV);
    await o.close();
  });

  it("a database COPY in takes a file's own dialect; a file takes only its own", async () => {
    const o = offers();
    const semi = { delimiter: ';', nullValue: 'NULL' };
    expect(agreeCsvDialect(o.fileOut(semi)!, o.pgIn!)).toEqual({ ...PLAIN_CSV, ...semi });
    expect(agreeCsvDialect(o.fileOut(semi)!, o.myIn!)).toEqual({ ...PLAIN_CSV, ...semi });
    // COPY out speaks plain CSV only: a file in another dialect is written from rows.
    expect(agreeCsvDialect(o.pgOut!, o.fileIn(semi)!)).toBeUndefined();
    expect(agreeCsvDialect(o.pgOut!, o.fileIn()!)).toEqual(PLAIN_CSV);
    expect(agreeCsvDialect(o.fileOut(semi)!, o.fileIn(semi)!)).toEqual({ ...PLAIN_CSV, ...semi });
    expect(agreeCsvDialect(o.fileOut(semi)!, o.fileIn()!)).toBeUndefined();
    await o.close();
  });

  it('agrees on nothing the byte path cannot carry', async () => {
    const o = offers();
    for (const options of [{ encoding: 'latin1' }, { delimiter: '§' }, { nullValue: 'a,b' }]) {
      expect(agreeCsvDialect(o.fileOut(options)!, o.pgIn!), JSON.stringify(options)).toBeUndefined();
      expect(agreeCsvDialect(o.fileOut(options)!, o.fileIn(options)!)).toBeUndefined();
    }
    expect(o.fileOut(undefined, '*.csv')).toBeUndefined();
    expect(o.fileOut({ trim: true })).toBeUndefined();
    await o.close();
  });

  it('compares every field, filling what is left out with plain CSV', () => {
    expect(sameCsvDialect({}, PLAIN_CSV)).toBe(true);
    expect(sameCsvDialect({ quote: "'" }, { quote: "'", escape: "'" })).toBe(true);
    expect(sameCsvDialect({}, { header: false })).toBe(false);
    expect(sameCsvDialect({}, { encoding: 'latin1' })).toBe(false);
    const fixed: CsvDialectOffer = fileCsvOffer({ type: 'csv' })!;
    const adapting: CsvDialectOffer = { dialect: PLAIN_CSV, adapts: ['header'] };
    const noHeader: CsvDialectOffer = { dialect: { ...PLAIN_CSV, header: false }, adapts: [] };
    expect(agreeCsvDialect(noHeader, adapting)).toEqual({ ...PLAIN_CSV, header: false });
    expect(agreeCsvDialect(noHeader, fixed)).toBeUndefined();
  });
});
