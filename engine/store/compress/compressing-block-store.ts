import { BlockStoreDecorator, type PutOptions, type StoredBlock } from "../block-store";
import { openBlock } from "../encrypt/encrypting-block-store";
import { SealingKey } from "../encrypt/sealing-key";
import { FrameDecoder } from "./decoder";
import { decodedSize, decodedSizeOf, decodeFrame, encodeFrame, FRAME_HEAD_BYTES } from "../../codec/frame";

/** Compresses blocks with zstd (see frame.ts for the stored form); a block that does not shrink is kept raw. */
export class CompressingBlockStore extends BlockStoreDecorator {
  constructor(
    inner: ConstructorParameters<typeof BlockStoreDecorator>[0],
    private readonly level = 1,
  ) {
    super(inner);
  }

  override frameLevel(): number {
    return this.level;
  }

  override async put(id: string, data: Buffer, options: PutOptions = {}): Promise<number> {
    const replace = options.replace;
    if (options.frame) return this.inner.put(id, options.frame, { replace, sealed: options.sealed }); // encoded ahead, off the main thread
    if (!replace && (await this.inner.has(id))) return 0; // skip compressing what dedupes away
    return this.inner.put(id, encodeFrame(data, this.level), { replace: true }); // presence was just checked
  }

  override async get(id: string): Promise<Buffer> {
    return decodeFrame(id, await this.inner.get(id));
  }

  /**
   * Decoded on worker threads, in batches, several ahead of the caller; see FrameDecoder. Blocks sealed
   * below (store/encrypt/) come up sealed and are opened there too, off this thread: here only the head
   * of each frame is read, to size its block.
   */
  override async *getMany(ids: string[]): AsyncIterable<StoredBlock> {
    const key = this.inner.sealingKey?.();
    const decoder = new FrameDecoder(key);
    const sizeOf = (data: Buffer) => (key ? sealedSize(key, data) : decodedSize(data));
    const decodeHere = (id: string, data: Buffer) => decodeFrame(id, key ? openBlock(key, id, data) : data);
    try {
      for await (const { id, data } of this.inner.getMany(ids, { sealed: key !== undefined })) {
        const size = sizeOf(data);
        if (size !== undefined) decoder.add(id, data, size);
        else decoder.flush(); // a frame that does not state its size is decoded here, in its turn
        while (decoder.ready || (size === undefined && decoder.pending > 0)) for (const block of await decoder.take()) yield block;
        if (size === undefined) yield { id, data: decodeHere(id, data) };
      }
      decoder.flush();
      while (decoder.pending > 0) for (const block of await decoder.take()) yield block;
    } finally {
      decoder.close();
    }
  }
}

/**
 * The block size a sealed frame states, from its unauthenticated head (SealingKey.peek): it only sizes
 * memory; the frame is authenticated where it is opened, and one whose head lied fails there.
 */
function sealedSize(key: SealingKey, sealed: Buffer): number | undefined {
  const head = key.peek(sealed, FRAME_HEAD_BYTES);
  return head && decodedSizeOf(head, SealingKey.openedLength(sealed));
}
