import { compress, decompress } from "zstd-napi";
import { BlockStoreDecorator } from "../block-store";
import { EngineError } from "../../errors";

const RAW = 0;
const ZSTD = 1;

/** Compresses blocks with zstd; a block that does not shrink is kept raw. One leading byte names the codec. */
export class CompressingBlockStore extends BlockStoreDecorator {
  constructor(inner: ConstructorParameters<typeof BlockStoreDecorator>[0], private readonly level = 1) {
    super(inner);
  }

  override async put(id: string, data: Buffer, options?: { replace?: boolean }): Promise<number> {
    if (!options?.replace && (await this.inner.has(id))) return 0; // skip compressing what dedupes away
    const packed = compress(data, { compressionLevel: this.level });
    const frame = packed.length < data.length ? Buffer.concat([Buffer.of(ZSTD), packed]) : Buffer.concat([Buffer.of(RAW), data]);
    return this.inner.put(id, frame, { replace: true }); // presence was just checked
  }

  override async get(id: string): Promise<Buffer> {
    const frame = await this.inner.get(id);
    const body = frame.subarray(1);
    if (frame[0] === RAW) return body;
    if (frame[0] === ZSTD) {
      try {
        return decompress(body);
      } catch (error) {
        throw new EngineError("BlockDamaged", `block ${id} cannot be decompressed: ${(error as Error).message}`, false);
      }
    }
    throw new EngineError("BlockDamaged", `block ${id} has an unknown codec ${frame[0]}`, false);
  }
}
