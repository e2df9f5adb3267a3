import { type Static, Type } from '@sinclair/typebox';
import { SaxesParser } from 'saxes';
import { DEFAULT_BATCH_SIZE, type Row, type RowStream } from '../core/records.js';
import type { ByteSource, Format, ReadContext } from './format.js';
import { formatError } from './format-error.js';
import { decodeText, EncodingSchema } from './text.js';
import { writeXml } from './xml-writer.js';

export const XmlOptionsSchema = Type.Object(
  {
    recordPath: Type.Optional(
      Type.String({
        pattern: '^/?[^/]+(/[^/]+)*$',
        description:
          'Element names from the root down to the record element, e.g. "patients/patient"; "*" matches any name. Default: every child element of the root is a record.',
      }),
    ),
    attributePrefix: Type.String({
      default: '',
      description: 'Prefix put before attribute names to tell them from child elements (e.g. "@").',
    }),
    textKey: Type.String({
      default: '#text',
      description: 'Field that holds the text of an element that also has attributes or children.',
    }),
    emptyAsNull: Type.Boolean({
      default: true,
      description: 'An element with no text, attributes or children (<a/> or <a></a>) reads as null.',
    }),
    encoding: EncodingSchema,
    rootElement: Type.String({
      default: 'records',
      minLength: 1,
      description: 'Root element name when writing.',
    }),
    recordElement: Type.String({
      default: 'record',
      minLength: 1,
      description: 'Record element name when writing.',
    }),
  },
  { additionalProperties: false },
);

export type XmlOptions = Static<typeof XmlOptionsSchema>;

/** An element being assembled inside a record. */
interface Frame {
  name: string;
  fields: Row | undefined;
  text: string;
  nil: boolean;
}

function addField(target: Row, key: string, value: unknown): void {
  if (!(key in target)) {
    target[key] = value;
    return;
  }
  // A repeated child element becomes an array of its values, in document order.
  const existing = target[key];
  if (Array.isArray(existing)) existing.push(value);
  else target[key] = [existing, value];
}

/**
 * A DOCTYPE can declare entities (billion laughs) or pull in external files (XXE). saxes never expands
 * them, but a document that relies on them would be read wrongly, so any DOCTYPE beyond a bare root name
 * is refused outright rather than silently half-processed.
 */
function checkDoctype(doctype: string): string | undefined {
  if (/^\s*[^\s[]+\s*$/.test(doctype)) return undefined;
  if (/<!ENTITY/i.test(doctype))
    return 'DOCTYPE declares entities; entity expansion is not supported (refused for safety)';
  if (/\b(SYSTEM|PUBLIC)\b/.test(doctype))
    return 'DOCTYPE references an external DTD; external entities are refused for safety';
  return 'DOCTYPE with an internal subset is not supported (DTD processing is refused for safety)';
}

/** Reads records at an element path; attributes and child elements become fields. */
async function* readXml(input: ByteSource, o: XmlOptions, ctx: ReadContext): RowStream {
  const batchSize = ctx.batchSize ?? DEFAULT_BATCH_SIZE;
  const path = o.recordPath ? o.recordPath.replace(/^\//, '').split('/') : undefined;
  const recordDepth = path ? path.length : 2;
  const parser = new SaxesParser({ position: true });
  const names: string[] = [];
  const frames: Frame[] = [];
  let ready: Row[] = [];
  const fail = (message: string): Error =>
    formatError(ctx.source, `line ${parser.line} column ${parser.column + 1}`, message);

  const matchesPath = (): boolean => {
    if (!path) return true;
    for (let i = 0; i < path.length; i++) if (path[i] !== '*' && path[i] !== names[i]) return false;
    return true;
  };
  parser.on('doctype', (doctype) => {
    const refusal = checkDoctype(doctype);
    if (refusal) throw fail(refusal);
  });
  parser.on('opentag', (tag) => {
    names.push(tag.name);
    const depth = names.length;
    if (frames.length === 0 && !(depth === recordDepth && matchesPath())) return;
    let fields: Row | undefined;
    let nil = false;
    for (const key in tag.attributes) {
      const value = tag.attributes[key]!;
      if (key === 'xsi:nil') {
        nil = value === 'true';
        continue;
      }
      if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
      fields ??= {};
      fields[o.attributePrefix + key] = value;
    }
    const parent = frames[frames.length - 1];
    if (parent) parent.fields ??= {};
    frames.push({ name: tag.name, fields, text: '', nil });
  });
  const onText = (text: string): void => {
    const top = frames[frames.length - 1];
    if (top) top.text += text;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    names.pop();
    const frame = frames.pop();
    if (!frame) return;
    const parent = frames[frames.length - 1];
    let value: unknown;
    if (frame.nil) value = null;
    else if (frame.fields) {
      // Whitespace between child elements is layout, not data; real mixed text is kept under textKey.
      if (frame.text.trim() !== '') frame.fields[o.textKey] = frame.text;
      value = frame.fields;
    } else value = frame.text === '' && o.emptyAsNull ? null : frame.text;
    if (parent) {
      parent.fields ??= {};
      addField(parent.fields, frame.name, value);
    } else ready.push(frame.fields ?? (frame.text.trim() === '' ? {} : { [o.textKey]: frame.text }));
  });

  const feed = (text: string | null): void => {
    try {
      if (text === null) parser.close();
      else parser.write(text);
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'FORMAT_ERROR') throw err;
      // saxes prefixes its messages with "line:column: "; ours say "line L column C" instead.
      const message = (err instanceof Error ? err.message : String(err)).replace(/^[^:]*?:?\d+:\d+: /, '');
      throw fail(message);
    }
  };
  for await (const text of decodeText(input, o.encoding)) {
    feed(text);
    while (ready.length >= batchSize) {
      ctx.signal?.throwIfAborted();
      yield ready.splice(0, batchSize);
    }
  }
  feed(null);
  while (ready.length > batchSize) yield ready.splice(0, batchSize);
  if (ready.length > 0) yield ready;
  ready = [];
}

export const xmlFormat: Format<XmlOptions> = {
  type: 'xml',
  optionsSchema: XmlOptionsSchema,
  mediaTypes: ['application/xml', 'text/xml'],
  extensions: ['xml'],
  read: readXml,
  write: writeXml,
};
