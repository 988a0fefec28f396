/**
 * The NBD wire protocol's numbers (NetworkBlockDevice/nbd doc/proto.md): the fixed newstyle handshake,
 * options and their replies, and the transmission phase's requests and structured replies. All fields are
 * big-endian. Only what this client sends or must understand is here.
 */

export const NBDMAGIC = 0x4e42444d41474943n; // "NBDMAGIC"
export const IHAVEOPT = 0x49484156454f5054n; // "IHAVEOPT"
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n;

/** Handshake flags the server sends, and the client's flags in reply. */
export const FLAG_FIXED_NEWSTYLE = 1 << 0;
export const FLAG_NO_ZEROES = 1 << 1;

export const Option = {
  ABORT: 2,
  GO: 7,
  STRUCTURED_REPLY: 8,
  SET_META_CONTEXT: 10,
} as const;

export const OptionReply = {
  ACK: 1,
  INFO: 3,
  META_CONTEXT: 4,
} as const;

/** Option reply types with bit 31 set are errors. */
export const REPLY_ERROR_BIT = 0x80000000;
export const OPTION_ERRORS: Record<number, string> = {
  [REPLY_ERROR_BIT + 1]: "NBD_REP_ERR_UNSUP",
  [REPLY_ERROR_BIT + 2]: "NBD_REP_ERR_POLICY",
  [REPLY_ERROR_BIT + 3]: "NBD_REP_ERR_INVALID",
  [REPLY_ERROR_BIT + 4]: "NBD_REP_ERR_PLATFORM",
  [REPLY_ERROR_BIT + 5]: "NBD_REP_ERR_TLS_REQD",
  [REPLY_ERROR_BIT + 6]: "NBD_REP_ERR_UNKNOWN",
  [REPLY_ERROR_BIT + 7]: "NBD_REP_ERR_SHUTDOWN",
  [REPLY_ERROR_BIT + 8]: "NBD_REP_ERR_BLOCK_SIZE_REQD",
  [REPLY_ERROR_BIT + 9]: "NBD_REP_ERR_TOO_BIG",
};
// Added, not OR-ed: `|` in JavaScript makes a signed 32-bit number, and replies are read unsigned.
export const REP_ERR_UNSUP = REPLY_ERROR_BIT + 1;
export const REP_ERR_UNKNOWN = REPLY_ERROR_BIT + 6;

export const Info = {
  EXPORT: 0,
  BLOCK_SIZE: 3,
} as const;

/** Transmission flags of NBD_INFO_EXPORT. */
export const TransmissionFlag = {
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  CAN_MULTI_CONN: 1 << 8,
} as const;

export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;
export const REQUEST_BYTES = 28;
export const SIMPLE_REPLY_BYTES = 16;
export const STRUCTURED_HEADER_BYTES = 20;

export const Command = {
  READ: 0,
  DISC: 2,
  BLOCK_STATUS: 7,
} as const;

/** Structured reply chunk flag: the last chunk of its request. */
export const REPLY_FLAG_DONE = 1 << 0;

export const ReplyType = {
  NONE: 0,
  OFFSET_DATA: 1,
  OFFSET_HOLE: 2,
  BLOCK_STATUS: 5,
  ERROR: (1 << 15) | 1,
  ERROR_OFFSET: (1 << 15) | 2,
} as const;
export const REPLY_TYPE_ERROR_BIT = 1 << 15;

/** The errno values an NBD server may send, by their names (the protocol fixes them, whatever the platform). */
export const NBD_ERRNO: Record<number, string> = {
  1: "EPERM",
  5: "EIO",
  12: "ENOMEM",
  22: "EINVAL",
  28: "ENOSPC",
  75: "EOVERFLOW",
  95: "ENOTSUP",
  108: "ESHUTDOWN",
};

/** Without NBD_INFO_BLOCK_SIZE the protocol promises 32 MiB payloads and byte alignment. */
export const DEFAULT_MAX_PAYLOAD = 32 * 1024 * 1024;

/** A 64-bit field as a number: exact up to 2^53 (8 PiB, far beyond any disk). */
export function readU64(buffer: Buffer, at: number): number {
  const high = buffer.readUInt32BE(at);
  const low = buffer.readUInt32BE(at + 4);
  return high * 0x1_0000_0000 + low;
}

export function writeU64(buffer: Buffer, value: number, at: number): void {
  buffer.writeUInt32BE(Math.floor(value / 0x1_0000_0000), at);
  buffer.writeUInt32BE(value % 0x1_0000_0000, at + 4);
}

/** An option request: IHAVEOPT, option, length, data. */
export function optionRequest(option: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(16);
  header.writeBigUInt64BE(IHAVEOPT, 0);
  header.writeUInt32BE(option, 8);
  header.writeUInt32BE(data.length, 12);
  return Buffer.concat([header, data]);
}

/** A transmission request: magic, command flags, type, cookie, offset, length. */
export function commandRequest(type: number, cookie: number, offset: number, length: number, flags = 0): Buffer {
  const request = Buffer.alloc(REQUEST_BYTES);
  request.writeUInt32BE(REQUEST_MAGIC, 0);
  request.writeUInt16BE(flags, 4);
  request.writeUInt16BE(type, 6);
  writeU64(request, cookie, 8);
  writeU64(request, offset, 16);
  request.writeUInt32BE(length, 24);
  return request;
}

/** A length-prefixed (32-bit) UTF-8 string, as export names and meta context queries are sent. */
export function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}
