import type { Socket } from "node:net";
import { EngineError } from "../../schema/errors";
import type { ByteStream } from "./byte-stream";
import { protocolError, type ServerName } from "./errors";
import {
  DEFAULT_MAX_PAYLOAD,
  FLAG_FIXED_NEWSTYLE,
  FLAG_NO_ZEROES,
  IHAVEOPT,
  Info,
  lengthPrefixed,
  NBDMAGIC,
  Option,
  OPTION_ERRORS,
  OPTION_REPLY_MAGIC,
  OptionReply,
  optionRequest,
  readU64,
  REP_ERR_UNKNOWN,
  REP_ERR_UNSUP,
  REPLY_ERROR_BIT,
} from "./protocol";

/** The server's block size constraints (NBD_INFO_BLOCK_SIZE): requests are aligned to `minimum` and carry at most `maximum` bytes. */
export interface BlockSizes {
  minimum: number;
  preferred: number;
  maximum: number;
}

/** What negotiation settled: the export, how to talk to it, and the id of each meta context the server agreed to. */
export interface Negotiated {
  size: number;
  transmissionFlags: number;
  blockSizes: BlockSizes;
  structuredReplies: boolean;
  /** Meta context name → the id its block status chunks carry. */
  contexts: Map<string, number>;
}

/** An option reply longer than this is not a reply a client can trust (export names and messages are at most 4 KiB). */
const MAX_OPTION_REPLY = 64 * 1024;

interface OptionAnswer {
  type: number;
  data: Buffer;
}

/** Fixed newstyle negotiation up to NBD_OPT_GO; on any failure the caller closes the socket. */
export async function negotiate(socket: Socket, stream: ByteStream, server: ServerName, exportName: string, metaContexts: string[]): Promise<Negotiated> {
  const greeting = await stream.exact(18);
  if (greeting.readBigUInt64BE(0) !== NBDMAGIC) throw protocolError(server, "the greeting does not start with NBDMAGIC");
  if (greeting.readBigUInt64BE(8) !== IHAVEOPT) throw protocolError(server, "not a newstyle server (no IHAVEOPT in the greeting): oldstyle is not supported");
  const handshakeFlags = greeting.readUInt16BE(16);
  if (!(handshakeFlags & FLAG_FIXED_NEWSTYLE)) throw protocolError(server, "the server does not offer fixed newstyle negotiation");
  const clientFlags = Buffer.alloc(4);
  clientFlags.writeUInt32BE(FLAG_FIXED_NEWSTYLE | (handshakeFlags & FLAG_NO_ZEROES));
  socket.write(clientFlags);

  const ask = async (option: number, data?: Buffer): Promise<OptionAnswer[]> => {
    socket.write(optionRequest(option, data));
    return optionAnswers(stream, server, option);
  };

  const structured = await ask(Option.STRUCTURED_REPLY);
  const structuredReplies = structured[0].type === OptionReply.ACK;
  if (!structuredReplies && structured[0].type !== REP_ERR_UNSUP) throw refused(server, "NBD_OPT_STRUCTURED_REPLY", structured[0]);

  const contexts = new Map<string, number>();
  if (metaContexts.length > 0) {
    if (!structuredReplies) throw new EngineError("NbdContextUnavailable", `${server}: no structured replies, so no meta context (${metaContexts.join(", ")})`);
    const answers = await ask(Option.SET_META_CONTEXT, setMetaContextData(exportName, metaContexts));
    for (const answer of answers) {
      if (answer.type === OptionReply.META_CONTEXT) {
        if (answer.data.length < 4) throw protocolError(server, "NBD_REP_META_CONTEXT shorter than its id");
        contexts.set(answer.data.subarray(4).toString("utf8"), answer.data.readUInt32BE(0));
      } else if (answer.type === REP_ERR_UNKNOWN) {
        throw new EngineError("DiskNotFound", `${server} has no export '${exportName}'`);
      } else if (answer.type !== OptionReply.ACK) {
        throw refused(server, "NBD_OPT_SET_META_CONTEXT", answer);
      }
    }
    const missing = metaContexts.filter((name) => !contexts.has(name));
    if (missing.length > 0) {
      throw new EngineError(
        "NbdContextUnavailable",
        `${server}: export '${exportName}' does not offer meta context ${missing.map((m) => `'${m}'`).join(", ")}`,
      );
    }
  }

  const go = await ask(Option.GO, goData(exportName));
  let exportInfo: { size: number; transmissionFlags: number } | undefined;
  let blockSizes: BlockSizes = { minimum: 1, preferred: 4096, maximum: DEFAULT_MAX_PAYLOAD };
  for (const answer of go) {
    if (answer.type === OptionReply.INFO) {
      const info = parseInfo(server, answer.data);
      if (info.kind === "export") exportInfo = info.value;
      if (info.kind === "block size") blockSizes = info.value;
    } else if (answer.type === REP_ERR_UNKNOWN) {
      throw new EngineError("DiskNotFound", `${server} has no export '${exportName}'`);
    } else if (answer.type !== OptionReply.ACK) {
      throw refused(server, "NBD_OPT_GO", answer);
    }
  }
  if (!exportInfo) throw protocolError(server, "NBD_OPT_GO ended without NBD_INFO_EXPORT (the export's size)");
  return { ...exportInfo, blockSizes, structuredReplies, contexts };
}

/** Every reply to one option, up to and including the final one (ACK or an error). */
async function optionAnswers(stream: ByteStream, server: ServerName, option: number): Promise<OptionAnswer[]> {
  const answers: OptionAnswer[] = [];
  for (;;) {
    const header = await stream.exact(20);
    if (header.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC) throw protocolError(server, `bad option reply magic 0x${header.readBigUInt64BE(0).toString(16)}`);
    const answered = header.readUInt32BE(8);
    if (answered !== option) throw protocolError(server, `a reply to option ${answered} while option ${option} was asked`);
    const type = header.readUInt32BE(12);
    const length = header.readUInt32BE(16);
    if (length > MAX_OPTION_REPLY) throw protocolError(server, `an option reply of ${length} bytes`);
    const data = length > 0 ? Buffer.from(await stream.exact(length)) : Buffer.alloc(0);
    answers.push({ type, data });
    if (type === OptionReply.ACK || type & REPLY_ERROR_BIT) return answers;
  }
}

type ParsedInfo = { kind: "export"; value: { size: number; transmissionFlags: number } } | { kind: "block size"; value: BlockSizes } | { kind: "other" };

function parseInfo(server: ServerName, data: Buffer): ParsedInfo {
  if (data.length < 2) throw protocolError(server, "NBD_REP_INFO without its type");
  const type = data.readUInt16BE(0);
  if (type === Info.EXPORT) {
    if (data.length !== 12) throw protocolError(server, `NBD_INFO_EXPORT of ${data.length} bytes, not 12`);
    return { kind: "export", value: { size: readU64(data, 2), transmissionFlags: data.readUInt16BE(10) } };
  }
  if (type === Info.BLOCK_SIZE) {
    if (data.length !== 14) throw protocolError(server, `NBD_INFO_BLOCK_SIZE of ${data.length} bytes, not 14`);
    const value = { minimum: data.readUInt32BE(2), preferred: data.readUInt32BE(6), maximum: data.readUInt32BE(10) };
    const powerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;
    if (!powerOfTwo(value.minimum) || !powerOfTwo(value.preferred) || value.maximum < value.minimum || value.maximum % value.minimum !== 0) {
      throw protocolError(server, `block sizes minimum ${value.minimum}, preferred ${value.preferred}, maximum ${value.maximum} are not valid`);
    }
    return { kind: "block size", value };
  }
  return { kind: "other" }; // name, description: not needed
}

/** The export name, then the one information request (NBD_INFO_BLOCK_SIZE): the client promises to honour the sizes. */
function goData(exportName: string): Buffer {
  const requests = Buffer.alloc(4);
  requests.writeUInt16BE(1, 0);
  requests.writeUInt16BE(Info.BLOCK_SIZE, 2);
  return Buffer.concat([lengthPrefixed(exportName), requests]);
}

function setMetaContextData(exportName: string, metaContexts: string[]): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(metaContexts.length);
  return Buffer.concat([lengthPrefixed(exportName), count, ...metaContexts.map(lengthPrefixed)]);
}

function refused(server: ServerName, option: string, answer: OptionAnswer): EngineError {
  const name = OPTION_ERRORS[answer.type] ?? `reply type 0x${answer.type.toString(16)}`;
  const reason = answer.data.length > 0 ? `: ${answer.data.toString("utf8")}` : "";
  if (!(answer.type & REPLY_ERROR_BIT)) return protocolError(server, `${option} answered with ${name}`);
  return new EngineError("NbdRefused", `${server} refused ${option}: ${name}${reason}`);
}
