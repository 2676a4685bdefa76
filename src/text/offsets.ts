// The one place where offsets change unit. nerkit counts UTF-16 code units (JavaScript string
// indices) everywhere; Python tools (spaCy, doccano's exports, Hugging Face) count code points.
// The two differ only after a character outside the Basic Multilingual Plane (emoji, rare CJK).

export type OffsetUnit = "utf16" | "codepoint";

/** Maps code-point offsets of `text` to UTF-16 offsets; identity when the text has no astral characters. */
export function codePointToUtf16(text: string): (offset: number) => number {
  if (!/[\uD800-\uDBFF]/.test(text)) return (offset) => offset;
  const table: number[] = [];
  let unit = 0;
  for (const char of text) {
    table.push(unit);
    unit += char.length;
  }
  table.push(unit);
  // An offset outside the text stays outside (past the end, or negative), so range checks still report it.
  return (offset) => (offset < 0 || !Number.isInteger(offset) ? offset : offset < table.length ? table[offset] : offset + (unit - (table.length - 1)));
}

/** Maps UTF-16 offsets of `text` to code-point offsets (for writing files Python tools read). */
export function utf16ToCodePoint(text: string): (offset: number) => number {
  if (!/[\uD800-\uDBFF]/.test(text)) return (offset) => offset;
  const table = new Int32Array(text.length + 1);
  let point = 0;
  for (let unit = 0; unit < text.length; ) {
    const width = text.codePointAt(unit)! > 0xffff ? 2 : 1;
    table[unit] = point;
    if (width === 2) table[unit + 1] = point + 1;
    unit += width;
    point++;
  }
  table[text.length] = point;
  return (offset) => table[offset];
}
