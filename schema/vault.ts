import * as path from "node:path";
import { z } from "zod";

/**
 * Encryption at rest as vault.json records it: the data key wrapped by the key-encryption key
 * (AES-256-GCM, bound to the vault's id) and a check value of the KEK, which tells a wrong key from a
 * damaged wrapped key.
 */
export const EncryptionRecord = z.strictObject({
  cipher: z.literal("aes-256-gcm"),
  /** HMAC-SHA256(KEK, "lifeboat key check"), its first 8 bytes in hex: reveals nothing of the key. */
  keyCheck: z.string().regex(/^[0-9a-f]{16}$/, "must be 16 lowercase hex digits"),
  /** The data key sealed by the KEK: version | nonce | ciphertext | tag, base64. */
  wrappedKey: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be base64"),
});
export type EncryptionRecord = z.infer<typeof EncryptionRecord>;

/**
 * vault.json, the marker of a vault directory. Format 1 (before encryption at rest) has no encryption
 * record; such a vault opens unencrypted.
 */
export const VaultMarker = z.object({
  format: z.union([z.literal(1), z.literal(2)]),
  id: z.string().min(1),
  createdAt: z.string(),
  encryption: EncryptionRecord.optional(),
});
export type VaultMarker = z.infer<typeof VaultMarker>;

/** A Vault resource's inputs. */
export const VaultSpec = z.strictObject({
  /** The vault directory; made absolute where the program runs, as every hook after resolves it. */
  path: z
    .string()
    .min(1, "must name the vault directory")
    .transform((p) => path.resolve(p)),
});
export type VaultSpec = z.infer<typeof VaultSpec>;

/** A Vault's outputs, one list for the resource and its runtime; the registration key is a secret. */
export const VAULT_OUTPUTS = ["endpoint", "registrationKey", "registrationKeyExpiresAt"] as const;
