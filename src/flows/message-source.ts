/**
 * The `@message` source of a transfer step: the records of the message batch a subscription hands the
 * flow (FlowIo.messages). With dedupe keys, the step's destination is asked which messages it recorded
 * already, and those are left out; the rest are written with their keys (see message-keys.ts).
 */
import type { MessageKeys } from '../connectors/message-keys.js';
import { AppError } from '../core/errors.js';
import type { Row } from '../core/records.js';
import { MESSAGE_SOURCE, type TransferStep } from './flow-schema.js';
import type { StepEnv } from './step-env.js';

export interface MessageRows {
  rows: Row[];
  /** The keys the destination records with the rows, when it records keys. */
  dedupe?: MessageKeys;
}

export async function messageRows(step: TransferStep, env: StepEnv, path: string): Promise<MessageRows> {
  const batch = env.io?.messages;
  if (!batch)
    throw new AppError(
      'BAD_REQUEST',
      `${path}: ${MESSAGE_SOURCE} is only available when a subscription runs the flow`,
    );
  const dedupe = batch.dedupe;
  if (!dedupe || step.to.connection.startsWith('@')) return { rows: batch.rows };
  const target = await env.pool.get(step.to.connection);
  const findKeys = target.commits?.findKeys;
  if (!findKeys) {
    env.log(
      'warn',
      `${path}.to: connection '${step.to.connection}' records no message keys; its rows are written at least once`,
    );
    return { rows: batch.rows };
  }
  // A key is unique per subscription and step: two steps of one flow each write a message once.
  const scope = `${dedupe.scope}#${env.step ?? 0}`;
  const distinct = [...new Set(dedupe.keys)];
  const done = await findKeys.call(target.commits, scope, distinct);
  if (done.size === 0) return { rows: batch.rows, dedupe: { scope, keys: distinct } };
  const rows = batch.rows.filter((_, i) => !done.has(dedupe.keys[i] ?? ''));
  env.log(
    'info',
    `${path}: ${done.size} message${done.size === 1 ? ' was' : 's were'} written before (dedupe key recorded); not written again`,
  );
  return { rows, dedupe: { scope, keys: distinct.filter((k) => !done.has(k)) } };
}
