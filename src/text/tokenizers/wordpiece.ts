// WordPiece (BERT, mBERT, DistilBERT): greedy longest-match-first over the vocabulary, with the
// continuation prefix ("##") on every piece but the first; a word longer than
// max_input_chars_per_word, or one with a piece no vocabulary entry matches, becomes a single unk
// token covering the whole word (as in tokenizers' models/wordpiece). Matching walks a trie instead
// of testing ever-shorter substrings, which finds the same longest match without allocating.
// Left out: training and the vocabulary-file writer.
// Hand-written because the npm @huggingface/tokenizers returns no offsets for its WordPiece.

import { NerkitError } from "../../errors.js";
import { codePointCount } from "./char-classes.js";
import type { TokenSink } from "./types.js";
import { VocabularyModel } from "./vocabulary-model.js";
import { UnitTrie } from "./unit-trie.js";

export interface WordPieceOptions {
  vocab: Map<string, number>;
  unkToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
}

export class WordPiece extends VocabularyModel {
  private readonly trie = new UnitTrie();
  private readonly prefixNode: number;
  private readonly unkId: number | undefined;

  constructor(private readonly options: WordPieceOptions) {
    super(options.vocab);
    for (const [token, id] of options.vocab) this.trie.insert(token, id);
    this.prefixNode = this.trie.find(options.continuingSubwordPrefix);
    this.unkId = options.vocab.get(options.unkToken);
  }

  tokenize(text: string, sink: TokenSink): void {
    const n = text.length;
    if (n === 0) return;
    if (n > this.options.maxInputCharsPerWord && codePointCount(text) > this.options.maxInputCharsPerWord) {
      this.pushUnk(n, sink);
      return;
    }
    const first = sink.ids.length;
    for (let start = 0; start < n; ) {
      let node = start === 0 ? UnitTrie.ROOT : this.prefixNode;
      let bestId = -1;
      let bestEnd = start;
      for (let i = start; i < n && node >= 0; i++) {
        node = this.trie.next(node, text.charCodeAt(i));
        if (node < 0) break;
        const id = this.trie.valueAt(node);
        if (id >= 0 && !splitsSurrogatePair(text, i + 1)) {
          bestId = id;
          bestEnd = i + 1;
        }
      }
      if (bestId < 0) {
        sink.ids.length = sink.starts.length = sink.ends.length = first;
        this.pushUnk(n, sink);
        return;
      }
      sink.ids.push(bestId);
      sink.starts.push(start);
      sink.ends.push(bestEnd);
      start = bestEnd;
    }
  }

  private pushUnk(length: number, sink: TokenSink): void {
    if (this.unkId === undefined) throw new NerkitError("E_FORMAT", `WordPiece: the unk token ${JSON.stringify(this.options.unkToken)} is not in the vocabulary`);
    sink.ids.push(this.unkId);
    sink.starts.push(0);
    sink.ends.push(length);
  }
}

function splitsSurrogatePair(text: string, at: number): boolean {
  if (at <= 0 || at >= text.length) return false;
  const before = text.charCodeAt(at - 1);
  const after = text.charCodeAt(at);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}
