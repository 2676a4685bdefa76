// A prefix tree over UTF-16 code units, for the longest-match (WordPiece) and all-prefixes
// (Unigram) vocabulary searches, so that matching walks the input without building substrings.
// Edges live in one open-addressing hash table of typed arrays (key: parent node and code unit)
// rather than one Map per node: a 250,000-piece XLM-R vocabulary has about a million nodes, which
// per-node Maps would turn into hundreds of megabytes. Left out: deletion (vocabularies are fixed).
// Hand-written: small, and tuned to the two searches above.

const EMPTY = -1;

export class UnitTrie {
  /** Token id stored at each node, or -1. Node 0 is the root (the empty prefix). */
  private values = new Int32Array(1024).fill(EMPTY);
  private nodeCount = 1;
  private keyParent = new Int32Array(2048).fill(EMPTY);
  private keyUnit = new Uint16Array(2048);
  private child = new Int32Array(2048);
  private mask = 2047;
  private edgeCount = 0;

  static readonly ROOT = 0;

  /** Stores `value` at the node for `key`, creating the path; a later insert of the same key wins. */
  insert(key: string, value: number): void {
    let node = UnitTrie.ROOT;
    for (let i = 0; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      let next = this.next(node, unit);
      if (next === EMPTY) next = this.addEdge(node, unit);
      node = next;
    }
    this.values[node] = value;
  }

  /** The node reached from `node` by `unit`, or -1. */
  next(node: number, unit: number): number {
    let slot = this.hash(node, unit);
    for (;;) {
      const parent = this.keyParent[slot];
      if (parent === EMPTY) return EMPTY;
      if (parent === node && this.keyUnit[slot] === unit) return this.child[slot];
      slot = (slot + 1) & this.mask;
    }
  }

  /** The node for a whole key, or -1. */
  find(key: string, from = UnitTrie.ROOT): number {
    let node = from;
    for (let i = 0; i < key.length && node !== EMPTY; i++) node = this.next(node, key.charCodeAt(i));
    return node;
  }

  /** Token id at a node, or -1. */
  valueAt(node: number): number {
    return this.values[node];
  }

  private hash(node: number, unit: number): number {
    return (Math.imul(node, 0x9e3779b1) ^ Math.imul(unit + 1, 0x85ebca77)) & this.mask;
  }

  private addEdge(parent: number, unit: number): number {
    if ((this.edgeCount + 1) * 2 > this.mask + 1) this.grow();
    const node = this.nodeCount++;
    if (node >= this.values.length) {
      const values = new Int32Array(this.values.length * 2).fill(EMPTY);
      values.set(this.values);
      this.values = values;
    }
    this.place(parent, unit, node);
    this.edgeCount++;
    return node;
  }

  private place(parent: number, unit: number, node: number): void {
    let slot = this.hash(parent, unit);
    while (this.keyParent[slot] !== EMPTY) slot = (slot + 1) & this.mask;
    this.keyParent[slot] = parent;
    this.keyUnit[slot] = unit;
    this.child[slot] = node;
  }

  private grow(): void {
    const [parents, units, children] = [this.keyParent, this.keyUnit, this.child];
    const size = (this.mask + 1) * 2;
    this.keyParent = new Int32Array(size).fill(EMPTY);
    this.keyUnit = new Uint16Array(size);
    this.child = new Int32Array(size);
    this.mask = size - 1;
    for (let slot = 0; slot < parents.length; slot++) {
      if (parents[slot] !== EMPTY) this.place(parents[slot], units[slot], children[slot]);
    }
  }
}
