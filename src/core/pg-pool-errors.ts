import type pg from 'pg';

/**
 * Keeps a node-postgres pool's socket errors from taking the process down. pg emits 'error' on a client
 * whose connection dies (a terminated backend, a restarted server, a reset socket); the pool listens
 * only while the client is idle, and an 'error' event nobody listens to is thrown. So every client gets
 * a listener for its whole life: a query running on it fails with the error anyway (pg hands it to the
 * active query), a later query fails with "not queryable", and the pool drops the client on release.
 * `onError` sees each error once, e.g. to log it.
 */
export function containPoolErrors(pool: pg.Pool, onError: (err: Error) => void = () => undefined): void {
  pool.on('error', onError);
  pool.on('connect', (client) => {
    client.on('error', onError);
  });
}
