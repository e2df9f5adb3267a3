import { MAX_NESTING, tooDeepMessage } from '../core/nesting.js';
import { DEFAULT_BATCH_SIZE, type Row, type RowStream } from '../core/records.js';
import { type ByteSource, defineFormat, type ReadContext } from './format.js';
import { formatError } from './format-error.js';
import { setField } from './rows.js';
import { decodeText } from './text.js';
import { TextCursor } from './text-cursor.js';
import { type XmlOptions, XmlOptionsSchema } from './xml-options.js';
import { XmlScanner, XmlSyntaxError } from './xml-scan.js';
import { writeXml } from './xml-writer.js';

/** An element being assembled inside a record. */
interface Frame {
  name: string;
  fields: Row | undefined;
  text: string;
  nil: boolean;
  /** It held a CDATA section: text, even when empty. */
  cdata: boolean;
}

function addField(target: Row, key: string, value: unknown): void {
  if (!Object.hasOwn(target, key)) {
    setField(target, key, value);
    return;
  }
  // A repeated child element becomes an array of its values, in document order.
  const existing = target[key];
  if (Array.isArray(existing)) existing.push(value);
  else target[key] = [existing, value];
}

/**
 * A DOCTYPE can declare entities (billion laughs) or pull in external files (XXE). The scanner never
 * expands them, but a document that relies on them would be read wrongly, so any DOCTYPE beyond a bare root name
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

/** A finished record element: its fields, or its text under textKey when it has nothing else. */
function recordOf(frame: Frame, textKey: string): Row {
  const blank = frame.text.trim() === '';
  if (!frame.fields) return blank ? {} : { [textKey]: frame.text };
  if (!blank) setField(frame.fields, textKey, frame.text);
  return frame.fields;
}

/**
 * Reads records at an element path; attributes and child elements become fields. Without a path the
 * records are the root's children, unless the root's first child is a plain field (an element with
 * nothing but text): then the root itself is the one record (`<patient><id>1</id>…</patient>`).
 */
async function* readXml(input: ByteSource, o: XmlOptions, ctx: ReadContext): RowStream {
  const batchSize = ctx.batchSize ?? DEFAULT_BATCH_SIZE;
  const path = o.recordPath ? o.recordPath.replace(/^\//, '').split('/') : undefined;
  // Without a path the root is framed too, until its first child says which of the two shapes it is.
  const recordDepth = path ? path.length : 1;
  /** Without a path: whether the root is the record; undefined until its first child element closes. */
  let rootIsRecord: boolean | undefined;
  const { attributePrefix, textKey, emptyAsNull } = o;
  const cur = new TextCursor(decodeText(input, o, ctx.source), ctx);
  // Frames are reused by depth (`open` counts the live ones): one object per element would be most of
  // the garbage a large read makes.
  const frames: Frame[] = [];
  let open = 0;
  let records = 0;
  let ready: Row[] = [];

  const matchesPath = (names: string[]): boolean => {
    if (!path) return true;
    for (let i = 0; i < path.length; i++) if (path[i] !== '*' && path[i] !== names[i]) return false;
    return true;
  };
  const scanner: XmlScanner = new XmlScanner(cur, {
    doctype: checkDoctype,
    open(name, attrs) {
      if (open === 0 && !(scanner.stack.length === recordDepth && matchesPath(scanner.stack))) return;
      // Without a path the root holds a frame too; the limit counts the levels below it.
      if (open - (path ? 0 : 1) >= MAX_NESTING)
        throw formatError(ctx.source, `record ${records + 1}`, tooDeepMessage(`element <${name}>`));
      let fields: Row | undefined;
      let nil = false;
      if (attrs) {
        for (let i = 0; i < attrs.length; i += 2) {
          const key = attrs[i]!;
          const value = attrs[i + 1]!;
          if (key === 'xsi:nil') {
            nil = value === 'true';
            continue;
          }
          if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
          fields ??= {};
          setField(fields, attributePrefix + key, value);
        }
      }
      if (open > 0) frames[open - 1]!.fields ??= {};
      const frame = frames[open];
      if (frame) {
        frame.name = name;
        frame.fields = fields;
        frame.text = '';
        frame.nil = nil;
        frame.cdata = false;
      } else frames.push({ name, fields, text: '', nil, cdata: false });
      open++;
    },
    text(text, cdata) {
      // Text between the records of a list is layout; keeping it would grow with the document.
      if (open > 1 || (open === 1 && rootIsRecord !== false)) {
        const frame = frames[open - 1]!;
        frame.text += text;
        if (cdata) frame.cdata = true;
      }
    },
    close() {
      if (open === 0) return;
      const frame = frames[--open]!;
      if (open === 0) {
        // The record element itself (with a path), or the root (without one).
        if (path) {
          records++;
          ready.push(recordOf(frame, textKey));
        } else if (rootIsRecord || (rootIsRecord === undefined && frame.fields)) {
          records++;
          ready.push(recordOf(frame, textKey));
        }
        return;
      }
      if (!path && open === 1) {
        rootIsRecord ??= frame.fields === undefined;
        if (!rootIsRecord) {
          records++;
          ready.push(recordOf(frame, textKey));
          return;
        }
      }
      const parent = frames[open - 1]!;
      let value: unknown;
      if (frame.nil) value = null;
      else if (frame.fields) {
        // Whitespace between child elements is layout, not data; real mixed text is kept under textKey.
        if (frame.text.trim() !== '') setField(frame.fields, textKey, frame.text);
        value = frame.fields;
      } else value = frame.text === '' && emptyAsNull && !frame.cdata ? null : frame.text;
      parent.fields ??= {};
      addField(parent.fields, frame.name, value);
    },
  });

  const step = (last: boolean): void => {
    try {
      if (last) scanner.end();
      else scanner.scan();
    } catch (err) {
      if (!(err instanceof XmlSyntaxError)) throw err;
      const { line, column } = cur.where(Math.min(err.index, cur.buf.length));
      throw formatError(ctx.source, `line ${line} column ${column}`, err.message);
    }
  };
  try {
    while (await cur.more()) {
      step(false);
      while (ready.length >= batchSize) {
        ctx.signal?.throwIfAborted();
        yield ready.splice(0, batchSize);
      }
    }
    step(true);
  } finally {
    await cur.close();
  }
  while (ready.length > batchSize) yield ready.splice(0, batchSize);
  if (ready.length > 0) yield ready;
  ready = [];
}

export const xmlFormat = defineFormat({
  type: 'xml',
  optionsSchema: XmlOptionsSchema,
  mediaTypes: ['application/xml', 'text/xml'],
  mediaTypeSuffixes: ['+xml'],
  extensions: ['xml'],
  read: readXml,
  write: writeXml,
});
