import { BlockStoreDecorator, type PutOptions, type StoredBlock } from "../block-store";
import { FrameDecoder } from "./decoder";
import { decodedSize, decodeFrame, encodeFrame } from "./frame";

/** Compresses blocks with zstd (see frame.ts for the stored form); a block that does not shrink is kept raw. */
export class CompressingBlockStore extends BlockStoreDecorator {
  constructor(inner: ConstructorParameters<typeof BlockStoreDecorator>[0], private readonly level = 1) {
    super(inner);
  }

  override frameLevel(): number {
    return this.level;
  }

  override async put(id: string, data: Buffer, options: PutOptions = {}): Promise<number> {
    const replace = options.replace;
    if (options.frame) return this.inner.put(id, options.frame, { replace }); // encoded ahead, off the main thread
    if (!replace && (await this.inner.has(id))) return 0; // skip compressing what dedupes away
    return this.inner.put(id, encodeFrame(data, this.level), { replace: true }); // presence was just checked
  }

  override async get(id: string): Promise<Buffer> {
    return decodeFrame(id, await this.inner.get(id));
  }

  /** Decoded on worker threads, in batches, several ahead of the caller; see FrameDecoder. */
  override async *getMany(ids: string[]): AsyncIterable<StoredBlock> {
    const decoder = new FrameDecoder();
    try {
      for await (const { id, data } of this.inner.getMany(ids)) {
        const size = decodedSize(data);
        if (size !== undefined) decoder.add(id, data, size);
        else decoder.flush(); // a frame that does not state its size is decoded here, in its turn
        while (decoder.ready || (size === undefined && decoder.pending > 0)) for (const block of await decoder.take()) yield block;
        if (size === undefined) yield { id, data: decodeFrame(id, data) };
      }
      decoder.flush();
      while (decoder.pending > 0) for (const block of await decoder.take()) yield block;
    } finally {
      decoder.close();
    }
  }
}
