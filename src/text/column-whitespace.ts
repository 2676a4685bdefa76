// What separates columns in a CoNLL line: Python's str.split() whitespace (ASCII space, \t \n \v \f
// \r, the separators U+001C-U+001F, U+0085 and Unicode's space characters), so nerkit splits lines
// as Python readers do. The one definition: the column scanner splits at it, the word tokenizer
// ends words at it, and the CoNLL writer refuses a field that holds it, so that whatever nerkit
// writes it reads back. (JavaScript's \s differs: it leaves out U+001C-U+001F and U+0085 and
// takes U+FEFF.) Deliberately leaves out zero-width characters, which Python keeps inside words.

/** Whether the UTF-16 code unit `c` separates CoNLL columns. */
export function isColumnSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13) || (c >= 28 && c <= 31);
  if (c < 0x85) return false;
  return (
    c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

/** Index of the first column-separating character in `text`, or -1. */
export function columnSpaceIndex(text: string): number {
  for (let i = 0; i < text.length; i++) if (isColumnSpace(text.charCodeAt(i))) return i;
  return -1;
}
