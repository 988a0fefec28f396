import { BlockStoreDecorator, type PutOptions, type StoredBlock } from "../block-store";
import { decodeFrame, encodeFrame } from "./frame";

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

  override async *getMany(ids: string[]): AsyncIterable<StoredBlock> {
    for await (const block of this.inner.getMany(ids)) yield { id: block.id, data: decodeFrame(block.id, block.data) };
  }
}
