// How the message browser shows a key, value or header value: JSON pretty-printed, text as text, anything
// else (invalid UTF-8, control bytes) as hex. Bounded, so one huge record cannot make a huge page.
export type Shown =
  | { type: 'null' }
  | { type: 'json' | 'text' | 'binary'; text: string; size: number; truncated: boolean };

/** Bytes of a payload decoded as text (beyond: truncated); hex shows fewer (3 characters a byte). */
export const MAX_TEXT_BYTES = 64 * 1024;
export const MAX_HEX_BYTES = 4 * 1024;

const decoder = new TextDecoder('utf-8', { fatal: true });

export function showPayload(buf: Buffer | null): Shown {
  if (buf === null) return { type: 'null' };
  const size = buf.length;
  let text: string | null = null;
  try {
    text = decoder.decode(buf);
  } catch {
    text = null;
  }
  // Text with control characters other than tab/newline/CR is shown as bytes (e.g. a 4-byte int key).
  if (text !== null && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
    const t = text.trimStart();
    if ((t.startsWith('{') || t.startsWith('[')) && size <= MAX_TEXT_BYTES) {
      try {
        return { type: 'json', text: JSON.stringify(JSON.parse(text), null, 2), size, truncated: false };
      } catch { /* not JSON: text */ }
    }
    const truncated = size > MAX_TEXT_BYTES;
    return { type: 'text', text: truncated ? buf.subarray(0, MAX_TEXT_BYTES).toString('utf8') : text, size, truncated };
  }
  const shown = buf.subarray(0, MAX_HEX_BYTES);
  return { type: 'binary', text: shown.toString('hex').replace(/(..)(?!$)/g, '$1 '), size, truncated: size > MAX_HEX_BYTES };
}
