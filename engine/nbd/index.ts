// The NBD client: reads and block status (allocation, dirty bitmaps) of an export served by qemu-nbd,
// qemu-storage-daemon or a QEMU guest's NBD server.
export { type ConnectOptions, type Extent, type NbdAddress, NbdClient, type RequestOptions } from "./client";
export { changedExtents, dirtyBitmapContext } from "./extents";
export type { BlockSizes } from "./handshake";
