/**
 * A delivered message as the records its flow reads from `@message`: the body parsed by its format
 * (the subscription's `format`, else the one its content type names, else JSON), each record with the
 * message's metadata in `_message_*` fields, and the message's dedupe key.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { InMessage } from '../connectors/brokers/message-consumer.js';
import { expandHeader } from '../connectors/http/http-template.js';
import type { Row } from '../core/records.js';
import type { BoundFormat, FormatRegistry } from '../formats/format-registry.js';
import { parseJsonRecords } from '../formats/json.js';
import type { SubscriptionSpec } from './subscription-schema.js';

/** The metadata fields every record of a message carries (unless `metadata: false`). */
export const METADATA_FIELDS = [
  '_message_id',
  '_message_key',
  '_message_headers',
  '_message_source',
  '_message_timestamp',
  '_message_redeliveries',
] as const;

export function metadataOf(m: InMessage): Record<(typeof METADATA_FIELDS)[number], unknown> {
  return {
    _message_id: m.id,
    _message_key: m.key,
    _message_headers: m.headers,
    _message_source: m.source,
    _message_timestamp: m.timestamp,
    _message_redeliveries: m.redeliveries,
  };
}

export interface MessageRecords {
  rows: Row[];
  /** The dedupe key, when the subscription has one. */
  key?: string;
}

/**
 * Plain JSON (valid UTF-8, records at the root) in one JSON.parse, as a listener reads a body. Undefined
 * when the streaming reader is needed: other formats or options, a malformed document (whose error the
 * reader words), bytes that are not UTF-8.
 */
function fastRecords(body: Buffer, format: BoundFormat): Row[] | undefined {
  if (format.type !== 'json' || body[0] === 0xef || body[0] === 0xfe || body[0] === 0xff) return undefined;
  const { recordPath, encoding } = format.options;
  if (recordPath !== undefined || (encoding !== undefined && encoding !== 'utf-8' && encoding !== 'utf8'))
    return undefined;
  if (!isUtf8(body)) return undefined;
  return parseJsonRecords(body.toString('utf8'));
}

export class MessageReader {
  private readonly fixed: BoundFormat | undefined;
  private readonly json: BoundFormat;

  constructor(
    private readonly formats: FormatRegistry,
    private readonly spec: SubscriptionSpec,
  ) {
    this.fixed = spec.format ? formats.bind(spec.format) : undefined;
    this.json = formats.bind({ type: 'json' });
  }

  private formatOf(m: InMessage): BoundFormat {
    if (this.fixed) return this.fixed;
    const byType = m.contentType ? this.formats.forMediaType(m.contentType) : undefined;
    return byType ? this.formats.bind({ type: byType.type }) : this.json;
  }

  /** Throws FORMAT_ERROR (naming the message) when the body does not parse: retrying cannot help. */
  async read(m: InMessage, signal: AbortSignal): Promise<MessageRecords> {
    const format = this.formatOf(m);
    const body = m.body;
    const rows: Row[] = fastRecords(body, format) ?? [];
    if (rows.length === 0) {
      const source = {
        async *[Symbol.asyncIterator]() {
          yield body;
        },
      };
      for await (const batch of format.read(source, { source: `message ${m.id}`, signal }))
        rows.push(...batch);
    }
    const meta = metadataOf(m);
    if (this.spec.metadata) for (const r of rows) Object.assign(r, meta);
    const dedupe = this.spec.dedupe;
    if (!dedupe) return { rows };
    const first = rows[0];
    const key = expandHeader(
      dedupe.key,
      (name) =>
        Object.hasOwn(meta, name)
          ? meta[name as keyof typeof meta]
          : first && Object.hasOwn(first, name)
            ? first[name]
            : undefined,
      'dedupe.key',
    );
    // Keys are stored in a VARCHAR(255) column on MySQL: a long key is kept as its hash.
    return { rows, key: key.length > 200 ? `sha256:${createHash('sha256').update(key).digest('hex')}` : key };
  }
}
