// What every vocabulary-based model (WordPiece, BPE) answers the same way: its size and the
// mapping between tokens and ids. The models add their own tokenize().

import type { Model, TokenSink } from "./types.js";

export abstract class VocabularyModel implements Model {
  protected readonly idToTokens: string[] = [];

  constructor(protected readonly vocab: Map<string, number>) {
    for (const [token, id] of vocab) this.idToTokens[id] = token;
  }

  get size(): number {
    return this.vocab.size;
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToTokens[id];
  }

  abstract tokenize(text: string, sink: TokenSink): void;
}
