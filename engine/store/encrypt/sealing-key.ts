import { createCipheriv, createDecipheriv, randomBytes, type Cipher } from "node:crypto";

/** The one format so far; a stored object starts with it so a later format can sit beside this one. */
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;
/** What sealing adds to an object: version byte, nonce and tag. */
export const SEAL_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;
/** The longest prefix SealingKey.peek reads: two AES blocks of keystream. */
export const PEEK_BYTES = 32;

/**
 * What a sealed object is. It is authenticated with the object's id, so a ciphertext cannot stand in for
 * another object of any kind.
 */
export type Purpose = "block" | "manifest-chunk" | "data-key";
const PURPOSE_BYTE: Record<Purpose, number> = { block: 1, "manifest-chunk": 2, "data-key": 3 };

/**
 * An AES-256-GCM key that seals objects, each with a fresh random 96-bit nonce. A vault's data key seals
 * every stored block and manifest chunk (NIST's bound for random nonces, 2^32 objects per key, is 256 TiB
 * of distinct 64 KiB blocks); its key-encryption key seals the data key ("data-key", id: the vault's id).
 * The sealed form is version | nonce | ciphertext | tag, and the additional data is version | purpose |
 * id, so a block swapped for another, or moved into a manifest, fails authentication.
 */
export class SealingKey {
  /** AES-256 on single blocks, for peek: made once, since a cipher context costs more than a frame's head. */
  private keystream: Cipher | undefined;

  private constructor(private readonly key: Buffer) {}

  static generate(): SealingKey {
    return new SealingKey(randomBytes(KEY_BYTES));
  }

  static of(key: Buffer): SealingKey {
    if (key.length !== KEY_BYTES) throw new Error(`a key is ${KEY_BYTES} bytes, not ${key.length}`);
    return new SealingKey(Buffer.from(key));
  }

  /** The raw key: a data key is wrapped, and handed to agents over their authenticated channel. */
  bytes(): Buffer {
    return Buffer.from(this.key);
  }

  seal(purpose: Purpose, id: string, data: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + data.length);
    this.sealInto(purpose, id, [data], out, 0);
    return out;
  }

  /**
   * Seal the plaintext made of `parts`, back to back, into `target` at `offset`, which must have
   * SEAL_OVERHEAD + their length free; returns the sealed length.
   */
  sealInto(purpose: Purpose, id: string, parts: Uint8Array[], target: Buffer, offset: number): number {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(additionalData(purpose, id));
    target[offset] = VERSION;
    nonce.copy(target, offset + 1);
    let end = offset + 1 + NONCE_BYTES;
    for (const part of parts) end += cipher.update(part).copy(target, end);
    cipher.final(); // GCM is a stream mode: update gave every byte, final only completes the tag
    end += cipher.getAuthTag().copy(target, end);
    return end - offset;
  }

  /**
   * The first `bytes` (at most PEEK_BYTES) of a sealed object's plaintext, NOT authenticated: only for
   * sizing memory before the object is opened (and authenticated) elsewhere. GCM encrypts in counter mode,
   * the plaintext's keystream starting at counter block nonce | 2, so encrypting the counter blocks
   * nonce | 2 and nonce | 3 gives the keystream of a prefix; one reused context does it for the cost of a copy.
   */
  peek(sealed: Uint8Array, bytes: number): Buffer | undefined {
    if (sealed.length < SEAL_OVERHEAD || sealed[0] !== VERSION) return undefined;
    if (bytes > PEEK_BYTES) throw new Error(`peek reads at most ${PEEK_BYTES} bytes, not ${bytes}`);
    const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
    const counters = Buffer.alloc(PEEK_BYTES);
    counters.set(nonce, 0);
    counters.writeUInt32BE(2, NONCE_BYTES);
    counters.set(nonce, 16);
    counters.writeUInt32BE(3, 16 + NONCE_BYTES);
    this.keystream ??= createCipheriv("aes-256-ecb", this.key, null).setAutoPadding(false);
    const prefix = this.keystream.update(counters);
    const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
    const length = Math.min(bytes, body.length);
    for (let n = 0; n < length; n++) prefix[n] ^= body[n];
    return prefix.subarray(0, length);
  }

  /** The length of a sealed object's plaintext. */
  static openedLength(sealed: Uint8Array): number {
    return sealed.length - SEAL_OVERHEAD;
  }

  /** The plaintext, or undefined when the object fails authentication: damaged, swapped, or sealed by another key. */
  open(purpose: Purpose, id: string, sealed: Uint8Array): Buffer | undefined {
    if (sealed.length < SEAL_OVERHEAD || sealed[0] !== VERSION) return undefined;
    const decipher = createDecipheriv("aes-256-gcm", this.key, sealed.subarray(1, 1 + NONCE_BYTES));
    decipher.setAAD(additionalData(purpose, id));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      return undefined;
    }
    return plain;
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** version | purpose | id; ids are SHA-256 hex, kept as their 32 bytes (any other id, a vault's, as its text). */
function additionalData(purpose: Purpose, id: string): Buffer {
  const hex = SHA256_HEX.test(id);
  const aad = Buffer.allocUnsafe(2 + (hex ? 32 : Buffer.byteLength(id)));
  aad[0] = VERSION;
  aad[1] = PURPOSE_BYTE[purpose];
  aad.write(id, 2, hex ? "hex" : "utf8");
  return aad;
}
