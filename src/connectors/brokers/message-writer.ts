/**
 * Rows as broker messages: one per record or per batch, each confirmed by the broker before the step
 * succeeds. At most `inFlight` messages wait for their confirm at once, so a long source never piles
 * messages up in memory. A broker cannot roll back: what it confirmed before a failure stays published,
 * and the writer says how much that was (Writer.leftBehind).
 */
import { AppError } from '../../core/errors.js';
import { oneBatch, type Row } from '../../core/records.js';
import type { FormatRegistry } from '../../formats/format-registry.js';
import { stringifyJson } from '../../formats/json-exact.js';
import type { DestinationSpec, Writer } from '../connector.js';
import { expandHeader, type Lookup } from '../http/http-template.js';
import type { MessageTarget } from './message-target-schema.js';

const BUILTINS = ['run_id', 'step', 'record', 'batch'] as const;

/** One message as the broker is given it. */
export interface OutMessage {
  body: Buffer;
  contentType: string;
  /** The message's records, 1-based, for errors. */
  what: string;
  /** Expands a template of `to.message` for this message; `field` names it in errors. */
  expand(template: string, field: string): string;
  key?: string;
  id?: string;
  headers: Record<string, string>;
}

/** A broker's side of a destination: sends one message and settles when the broker confirmed it. */
export interface Publisher {
  /** The broker's name in messages. */
  readonly broker: string;
  publish(message: OutMessage): Promise<void>;
  /** Releases the channel or connection the writer used (after every confirm settled). */
  close(): Promise<void>;
}

function range(first: number, last: number): string {
  return first === last ? `record ${first}` : `records ${first}-${last}`;
}

/**
 * A message being published. A class, not an object of closures: the writer makes one per record, and
 * its templates are expanded only when a broker asks.
 */
class Outgoing implements OutMessage {
  headers: Record<string, string> = {};
  key?: string;
  id?: string;
  constructor(
    readonly body: Buffer,
    readonly contentType: string,
    readonly what: string,
    private readonly row: Row | undefined,
    private readonly builtins: Record<(typeof BUILTINS)[number], unknown>,
    private readonly params: Record<string, unknown>,
  ) {}

  expand(template: string, field: string): string {
    if (!template.includes('{')) return template;
    const lookup: Lookup = (name) => {
      if (Object.hasOwn(this.builtins, name)) return this.builtins[name as (typeof BUILTINS)[number]];
      if (this.row && Object.hasOwn(this.row, name)) return this.row[name];
      return Object.hasOwn(this.params, name) ? this.params[name] : undefined;
    };
    return expandHeader(template, lookup, `to.message.${field} for ${this.what}`);
  }
}

/** Options of `to.message` that belong to other brokers are refused, so a typo does not go unnoticed. */
export function refuseOptions(message: MessageTarget, broker: string, names: (keyof MessageTarget)[]): void {
  for (const name of names) {
    if (message[name] !== undefined)
      throw new AppError(
        'VALIDATION_FAILED',
        `to.message.${name} does not apply to a ${broker} destination`,
        {
          details: [{ path: `/to/message/${name}`, message: `not a ${broker} option` }],
        },
      );
  }
}

export async function openMessageWriter(
  formats: FormatRegistry,
  spec: DestinationSpec & { message: MessageTarget },
  publisher: Publisher,
  signal: AbortSignal | undefined,
): Promise<Writer> {
  if (spec.mode !== 'append') {
    await publisher.close();
    throw new AppError(
      'BAD_REQUEST',
      `A ${publisher.broker} destination publishes messages; mode ${spec.mode} does not apply (leave mode out)`,
    );
  }
  const msg = spec.message;
  const format = formats.bind(spec.format ?? { type: 'json' });
  const plainJson = format.type === 'json' && !format.options['pretty'];
  const contentType = format.format.mediaTypes[0] ?? 'application/octet-stream';
  const params = spec.params ?? {};
  const perRecord = msg.send === 'record';

  /** The plain JSON body without leaving the current task; undefined for formats that stream. */
  function encodeNow(rows: Row[]): Buffer | undefined {
    if (!plainJson) return undefined;
    return Buffer.from(
      perRecord && rows[0] ? stringifyJson(rows[0]) : `[${rows.map((r) => stringifyJson(r)).join(',')}]`,
    );
  }

  async function encode(rows: Row[]): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of format.write(oneBatch(rows), { columns: spec.columns })) {
      parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    }
    return Buffer.concat(parts);
  }

  let published = 0;
  let confirmed = 0;
  let batches = 0;
  let failure: unknown;
  /** Messages published and not yet settled; `wake` resumes the writer when one settles. */
  let outstanding = 0;
  let wake: (() => void) | undefined;
  const settle = () => {
    outstanding--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const settled = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });

  function failWith(err: unknown, what: string): unknown {
    if (err instanceof AppError && (err.code === 'RUN_CANCELLED' || err.code === 'PARAMETER_INVALID'))
      return err;
    const reason = err instanceof Error ? err.message : String(err);
    const code = err instanceof AppError ? err.code : 'CONNECTION_FAILED';
    return new AppError(code, `${publisher.broker} did not confirm the message of ${what}: ${reason}`, {
      cause: err,
    });
  }

  /**
   * Publishes one message without waiting for anything: the messages of a batch go out in the same
   * task, so a client that flushes its socket once per task (nats.js, mqtt.js, ioredis pipelines) sends
   * them in a few writes instead of one write each.
   */
  function start(rows: Row[], body: Buffer): void {
    if (failure !== undefined) throw failure;
    if (signal?.aborted) throw new AppError('RUN_CANCELLED', 'The run was cancelled');
    const first = published + 1;
    const batch = ++batches;
    const builtins: Record<(typeof BUILTINS)[number], unknown> = {
      run_id: spec.run?.id,
      step: spec.run === undefined ? undefined : spec.run.step + 1,
      record: first,
      batch,
    };
    const what = `${range(first, first + rows.length - 1)}${perRecord ? '' : ` (batch ${batch})`}`;
    const message = new Outgoing(body, contentType, what, perRecord ? rows[0] : undefined, builtins, params);
    if (msg.headers !== undefined)
      for (const [name, template] of Object.entries(msg.headers))
        message.headers[name] = message.expand(template, `headers.${name}`);
    if (msg.key !== undefined) message.key = message.expand(msg.key, 'key');
    if (msg.id !== undefined) message.id = message.expand(msg.id, 'id');
    published += rows.length;
    outstanding++;
    publisher.publish(message).then(
      () => {
        confirmed += rows.length;
        settle();
      },
      (err: unknown) => {
        failure ??= failWith(err, what);
        settle();
      },
    );
  }

  async function drain(): Promise<void> {
    while (outstanding > 0) await settled();
  }

  return {
    async write(rows) {
      const size = perRecord ? 1 : msg.batchSize;
      for (let i = 0; i < rows.length; i += size) {
        const part = perRecord ? rows.slice(i, i + 1) : rows.slice(i, i + size);
        start(part, encodeNow(part) ?? (await encode(part)));
        // At most inFlight messages wait for their confirm; when one settles, every message that can go
        // now goes in this same task.
        while (outstanding >= msg.inFlight && failure === undefined) await settled();
        if (failure !== undefined) throw failure;
      }
    },
    async commit() {
      await drain();
      await publisher.close().catch(() => undefined);
      if (failure !== undefined) throw failure;
      return { rowsWritten: confirmed };
    },
    async rollback() {
      await drain();
      await publisher.close().catch(() => undefined);
    },
    leftBehind() {
      return confirmed > 0
        ? `${confirmed} record${confirmed === 1 ? ' was' : 's were'} confirmed by ${publisher.broker} before the failure and stay published (a broker cannot take messages back; a re-run publishes them again, so consumers de-duplicate by message id)`
        : undefined;
    },
  };
}
