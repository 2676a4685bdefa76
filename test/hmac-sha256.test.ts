// The pure HMAC-SHA-256 that redaction's "hash" placeholder uses (so that it runs in a browser)
// equals node:crypto's bit for bit: FIPS 180-2's SHA-256 examples, RFC 4231's HMAC cases (keys
// shorter than, equal to and longer than a block), every length across the padding boundaries,
// and many random byte strings and texts (lone surrogates and astral characters included).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { hmacSha256, hmacSha256Hex, sha256 } from "../src/postprocess/hmac-sha256.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

test("SHA-256 of the standard's examples", () => {
  assert.equal(hex(sha256(bytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(hex(sha256(bytes(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(hex(sha256(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
});

test("HMAC-SHA-256 of RFC 4231's cases 1, 2 and 6 (a 131-byte key, hashed first)", () => {
  assert.equal(hex(hmacSha256(new Uint8Array(20).fill(0x0b), bytes("Hi There"))), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  assert.equal(hmacSha256Hex("Jefe", "what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const case6 = hmacSha256(new Uint8Array(131).fill(0xaa), bytes("Test Using Larger Than Block-Size Key - Hash Key First"));
  assert.equal(hex(case6), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
});

test("every message length from 0 to 300 bytes and key length from 0 to 150 agrees with node:crypto", () => {
  for (let n = 0; n <= 300; n++) {
    const message = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
    assert.equal(hex(sha256(message)), createHash("sha256").update(message).digest("hex"), `length ${n}`);
  }
  for (let n = 0; n <= 150; n++) {
    const key = Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
    assert.equal(hex(hmacSha256(key, bytes("Dario"))), createHmac("sha256", key).update("Dario").digest("hex"), `key length ${n}`);
  }
});

test("random keys and messages, bytes and texts, agree with node:crypto", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 400 }), (key, message) => {
      assert.equal(hex(hmacSha256(key, message)), createHmac("sha256", key).update(message).digest("hex"));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ unit: "binary", maxLength: 120 }), fc.string({ unit: "grapheme", maxLength: 60 }), (key, text, graphemes) => {
      fc.pre(key.length > 0);
      for (const message of [text, graphemes, text + "\ud800" + graphemes]) {
        assert.equal(hmacSha256Hex(key, message), createHmac("sha256", key).update(message, "utf8").digest("hex"));
      }
    }),
    { numRuns: 2000 },
  );
});
