import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitUrlFiles } from '../../src/connectors/postgres/postgres-config.js';
import { poolConfig } from '../../src/connectors/postgres/postgres-pool-config.js';

const FILES = ['sslcert', 'sslkey', 'sslrootcert'];

describe('the files a PostgreSQL URL names', () => {
  it('takes them out of the query and keeps everything else as written', () => {
    expect(splitUrlFiles('postgres://u:p@h:5432/db')).toEqual({
      rest: 'postgres://u:p@h:5432/db',
      files: {},
    });
    expect(
      splitUrlFiles(
        'postgres://u:p%3F@h/db?sslmode=require&sslrootcert=%2Fetc%2Fca%20x.pem&application_name=a#f',
      ),
    ).toEqual({
      rest: 'postgres://u:p%3F@h/db?sslmode=require&application_name=a#f',
      files: { sslrootcert: '/etc/ca x.pem' },
    });
    // Spelled in percent escapes, the name is still the name URLSearchParams reads.
    expect(splitUrlFiles('postgres://h/db?ssl%6Bey=k.pem&sslcert=c+d.pem').files).toEqual({
      sslkey: 'k.pem',
      sslcert: 'c d.pem',
    });
  });

  it('leaves no file parameter for the driver to read, whatever the query holds', () => {
    const piece = fc.oneof(
      fc.constantFrom(...FILES, 'sslmode', 'ssl%6Bey', 'sslcert%', 'x', '', '=', '&', '%', '+', '#', '?'),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const url = `postgres://u@h/db?${parts.join('')}`;
        const { rest, files } = splitUrlFiles(url);
        const left = new URL(rest, 'postgres://base').searchParams;
        for (const name of FILES) expect(left.has(name)).toBe(false);
        const before = new URL(url, 'postgres://base').searchParams;
        for (const name of FILES) if (before.has(name)) expect(files).toHaveProperty(name);
      }),
      { numRuns: 2000 },
    );
  });

  it('puts the files read through the file roots into the driver TLS options, with the URL sslmode', () => {
    const read: string[] = [];
    const config = poolConfig(
      { url: 'postgres://u@h:5433/db?sslmode=no-verify&sslrootcert=ca.pem&sslkey=k.pem', poolSize: 2 },
      (path, name) => {
        read.push(`${name}=${path}`);
        return `contents of ${path}`;
      },
    );
    expect(read).toEqual(["the URL's sslrootcert=ca.pem", "the URL's sslkey=k.pem"]);
    expect(config).toMatchObject({
      host: 'h',
      port: '5433',
      database: 'db',
      user: 'u',
      ssl: { ca: 'contents of ca.pem', key: 'contents of k.pem', rejectUnauthorized: false },
    });
    expect(config).not.toHaveProperty('connectionString');
    expect(() => poolConfig({ url: 'postgres://h/db?sslcert=c.pem', poolSize: 1 })).toThrow(/file access/);
  });
});
