// Tokens back to text, as the tokenizer's decoder in tokenizer.json does (transformers'
// convert_tokens_to_string for fast tokenizers): the pipeline spells each entity's "word" this way.
// WordPiece joins with spaces and glues "##" pieces (then tidies " ." and friends), byte-level
// BPE maps its printable stand-ins back to bytes, Metaspace turns "▁" into spaces.

import { TokensToString } from "./aggregation.js";
import { BYTE_CHARS } from "../text/tokenizers/pre-tokenizers.js";

/** GPT-2's byte-to-printable-character table (the pre-tokenizer's), reversed: character -> byte. */
function byteLevelTable(): Map<string, number> {
  return new Map(BYTE_CHARS.map((char, byte) => [char, byte]));
}

const CLEANUPS: [string, string][] = [
  [" .", "."],
  [" ?", "?"],
  [" !", "!"],
  [" ,", ","],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" do not", " don't"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];

function cleanup(text: string): string {
  // includes() first: split/join allocates for every token even when nothing matches (it was the
  // largest share of the synchronous time after the model on a 1 MB text).
  for (const [from, to] of CLEANUPS) if (text.includes(from)) text = text.split(from).join(to);
  return text;
}

type DecoderSpec = { type?: string; prefix?: string; cleanup?: boolean; replacement?: string; prepend_scheme?: string; add_prefix_space?: boolean; decoders?: DecoderSpec[] };

/** The decoder of a tokenizer.json (null decoder: tokens joined as they are). */
export function tokensToStringFor(spec: DecoderSpec | null | undefined): TokensToString {
  switch (spec?.type) {
    case "WordPiece": {
      const prefix = spec.prefix ?? "##";
      const tidy = spec.cleanup ?? true;
      return (tokens) =>
        tokens
          .map((token, i) => {
            let piece = token;
            if (i !== 0) piece = piece.startsWith(prefix) ? piece.slice(prefix.length) : " " + piece;
            return tidy ? cleanup(piece) : piece;
          })
          .join("");
    }
    case "ByteLevel": {
      const table = byteLevelTable();
      const encoder = new TextEncoder();
      const decoder = new TextDecoder("utf-8");
      return (tokens) => {
        const bytes: number[] = [];
        for (const token of tokens) {
          const mapped: number[] = [];
          let ok = true;
          for (const char of token) {
            const b = table.get(char);
            if (b === undefined) {
              ok = false;
              break;
            }
            mapped.push(b);
          }
          // A token with a character outside the table (an already decoded word) keeps its own UTF-8 bytes.
          bytes.push(...(ok ? mapped : encoder.encode(token)));
        }
        return decoder.decode(Uint8Array.from(bytes));
      };
    }
    case "Metaspace": {
      const replacement = spec.replacement ?? "▁";
      const prepends = spec.prepend_scheme !== undefined ? spec.prepend_scheme !== "never" : spec.add_prefix_space !== false;
      return (tokens) =>
        tokens
          .map((token, i) => {
            const piece = token.split(replacement).join(" ");
            return i === 0 && prepends && piece.startsWith(" ") ? piece.slice(1) : piece;
          })
          .join("");
    }
    default:
      return (tokens) => tokens.join(spec?.type === undefined ? " " : "");
  }
}
