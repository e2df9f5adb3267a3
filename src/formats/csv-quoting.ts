/**
 * Which fields of one raw CSV record were quoted. Only consulted for records in which some field equals
 * the null text, to tell `""` (an empty string) from an empty unquoted field (null).
 */
export function quotedFields(
  raw: string,
  o: { delimiter: string; quote: string; escape: string },
): boolean[] {
  const { delimiter, quote, escape: esc } = o;
  const out: boolean[] = [];
  let i = 0;
  const n = raw.length;
  for (;;) {
    while (i < n && (raw[i] === ' ' || raw[i] === '\t') && raw[i] !== delimiter) i++;
    if (raw[i] === quote) {
      out.push(true);
      i++;
      while (i < n) {
        if (raw[i] === esc && raw[i + 1] === quote) i += 2;
        else if (raw[i] === quote) {
          i++;
          break;
        } else i++;
      }
    } else out.push(false);
    while (i < n && raw[i] !== delimiter && raw[i] !== '\n' && raw[i] !== '\r') i++;
    if (i >= n || raw[i] !== delimiter) return out;
    i++;
  }
}
