/**
 * The dead-letter target of a subscription: a message that failed `maxAttempts` times is written, with
 * the last error and every attempt, as one record to a table of a database connection or as one JSON
 * message to a broker, and only then acknowledged. A write that fails leaves the message with the
 * broker, to be tried again.
 */
import type { ConnectorPool } from '../connections/connector-pool.js';
import type { InMessage } from '../connectors/brokers/message-consumer.js';
import type { DestinationSpec } from '../connectors/connector.js';
import { AppError, errorMessage } from '../core/errors.js';
import type { Column, Row } from '../core/records.js';
import type { SubscriptionSpec } from './subscription-schema.js';

/** One failed attempt of a message. */
export interface Attempt {
  at: string;
  error: string;
  /** The run of the batch that failed (none for a body that did not parse). */
  runId: string | null;
}

export const DEAD_LETTER_COLUMNS: Column[] = [
  { name: 'subscription', type: 'text', nullable: false },
  { name: 'message_id', type: 'text', nullable: false },
  { name: 'message_key', type: 'text', nullable: true },
  { name: 'source', type: 'text', nullable: false },
  { name: 'headers', type: 'json', nullable: false },
  { name: 'body', type: 'text', nullable: false },
  { name: 'body_encoding', type: 'text', nullable: false },
  { name: 'error', type: 'text', nullable: false },
  { name: 'attempts', type: 'json', nullable: false },
  { name: 'dead_lettered_at', type: 'timestamp', nullable: false },
];

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The dead-letter record of a message: its body as text, or as base64 when it is not UTF-8. */
export function deadLetterRecord(subscription: string, m: InMessage, attempts: Attempt[]): Row {
  let body: string;
  let encoding = 'utf8';
  try {
    body = utf8.decode(m.body);
  } catch {
    body = m.body.toString('base64');
    encoding = 'base64';
  }
  return {
    subscription,
    message_id: m.id,
    message_key: m.key,
    source: m.source,
    headers: m.headers,
    body,
    body_encoding: encoding,
    error: attempts.at(-1)?.error ?? 'failed',
    attempts,
    dead_lettered_at: new Date(),
  };
}

export async function writeDeadLetter(
  pool: ConnectorPool,
  subscription: string,
  target: NonNullable<SubscriptionSpec['deadLetter']>,
  m: InMessage,
  attempts: Attempt[],
  signal: AbortSignal,
): Promise<void> {
  const row = deadLetterRecord(subscription, m, attempts);
  const base = { mode: 'append' as const, columns: DEAD_LETTER_COLUMNS, create: true };
  const spec: DestinationSpec =
    target.table !== undefined
      ? { ...base, table: target.table }
      : {
          ...base,
          message: target.message ?? {
            send: 'record',
            batchSize: 1,
            mandatory: true,
            persistent: true,
            inFlight: 1,
          },
          params: {},
          format: { type: 'json' },
        };
  try {
    const connector = await pool.get(target.connection);
    const writer = await connector.writer(spec, signal);
    try {
      await writer.write([row]);
      await writer.commit();
    } catch (err) {
      await writer.rollback().catch(() => undefined);
      throw err;
    }
  } catch (err) {
    throw new AppError(
      err instanceof AppError ? err.code : 'CONNECTION_FAILED',
      `dead-lettering message ${m.id} to connection '${target.connection}' failed: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}
