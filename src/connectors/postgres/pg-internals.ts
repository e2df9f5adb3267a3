/**
 * Every part of node-postgres and pg-cursor this connector uses that those packages neither document
 * nor type, in one place: the packages are pinned to exact versions in package.json, and
 * test/connectors/pg-internals.test.ts checks each part below against the installed packages and a
 * real server, so an upgrade that removes or reshapes one fails there first. Nothing else in the
 * connector reaches into pg's objects.
 */
import { createRequire } from 'node:module';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Row } from '../../core/records.js';

const require = createRequire(import.meta.url);

function missing(what: string): Error {
  return new Error(`node-postgres internal ${what} is missing: install the pg versions package.json pins`);
}

function field(owner: unknown, name: string): unknown {
  if ((typeof owner !== 'object' && typeof owner !== 'function') || owner === null) return undefined;
  return Reflect.get(owner, name);
}

/** `pg/lib/utils` prepareValue: pg's conversion of a bound value to its wire text (dates, buffers, arrays, JSON). */
export const PG_PREPARE_VALUE: unknown = field(require('pg/lib/utils'), 'prepareValue');

export function prepareValue(value: unknown): unknown {
  if (typeof PG_PREPARE_VALUE !== 'function') throw missing('pg/lib/utils prepareValue');
  return Reflect.apply(PG_PREPARE_VALUE, undefined, [value]);
}

/** The row parser of pg's result class (`pg.Result`; pg exports it without typing it as a parser). */
export interface RowParser {
  fields: pg.FieldDef[];
  addFields(fields: unknown[]): void;
  parseRow(values: unknown[]): Row;
}

export const PG_RESULT: unknown = field(pg, 'Result');

function newRowParser(): RowParser {
  if (typeof PG_RESULT !== 'function') throw missing('pg.Result');
  return Reflect.construct(PG_RESULT, []);
}

/**
 * A query object pg's client runs as it is (a Submittable). pg gives the result parser of such a query
 * the client's type parsers (the pool's) only when it sits in a field named `_result`; `rowParser` is
 * that parser for subclasses.
 */
export abstract class TypedSubmittable {
  readonly _result: RowParser = newRowParser();

  protected get rowParser(): RowParser {
    return this._result;
  }
}

/**
 * Hands a query object to pg's client to run as it is. pg's typings take a Submittable as seeing their
 * own Connection class, whose methods are typed unlike what pg's protocol writer takes (PgProtocol).
 */
export function submit(client: pg.PoolClient, query: { submit(connection: PgProtocol): unknown }): void {
  Reflect.apply(client.query, client, [query]);
}

/** pg's protocol writer as a Submittable sees it (pg's Connection; its typings differ from what it takes). */
export interface PgProtocol {
  parse(m: { text: string; name?: string; types?: number[] }): void;
  describe(m: { type: 'S' | 'P'; name: string }): void;
  bind(m: {
    portal: string;
    statement: string;
    values: unknown[];
    valueMapper: (v: unknown) => unknown;
  }): void;
  execute(m: { portal: string; rows: number }): void;
  sync(): void;
  stream: { cork?(): void; uncork?(): void };
}

/** The backend process id of a client (pg keeps it on the client; its typings do not declare it). */
export function backendPid(client: pg.PoolClient): number | undefined {
  const pid = field(client, 'processID');
  return typeof pid === 'number' ? pid : undefined;
}

interface Corkable {
  cork(): void;
  uncork(): void;
}

/** The socket under a pg client's or cursor's protocol connection, when it can be corked. */
function socketOf(owner: unknown): Corkable | undefined {
  const stream = field(field(owner, 'connection'), 'stream');
  if (typeof stream !== 'object' || stream === null) return undefined;
  const cork = field(stream, 'cork');
  const uncork = field(stream, 'uncork');
  if (typeof cork !== 'function' || typeof uncork !== 'function') return undefined;
  return { cork: () => Reflect.apply(cork, stream, []), uncork: () => Reflect.apply(uncork, stream, []) };
}

/**
 * Runs `fn` with the socket of `owner`'s connection (a pg client, or a cursor) corked, so the protocol
 * messages it writes leave as one packet.
 */
export function corked<T>(owner: unknown, fn: () => T): T {
  const socket = socketOf(owner);
  socket?.cork();
  try {
    return fn();
  } finally {
    socket?.uncork();
  }
}

/** pg-cursor's `_closePortal` (close the portal, then sync), which PacketCursor wraps. */
export const CURSOR_CLOSE_PORTAL: unknown = field(Cursor.prototype, '_closePortal');

/**
 * pg-cursor writes every protocol message (parse, bind, describe, execute, flush; close, sync) with its
 * own socket write. This cursor sends those of one step as one packet: a short read (a data API
 * answering one row) costs two writes instead of eight.
 */
export class PacketCursor extends Cursor<Row> {
  _closePortal(): void {
    const close = CURSOR_CLOSE_PORTAL;
    // Called from pg's socket handlers, where a throw would be uncaught; the pin keeps it present.
    if (typeof close !== 'function') return;
    corked(this, () => Reflect.apply(close, this, []));
  }
}
