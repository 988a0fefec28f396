/** QEMU's monitor protocol and the dirty-bitmap and fleecing operations a change tracker drives with it. */
export { type QmpConnectOptions, type QmpEvent, type QmpGreeting, QmpClient, QmpCommandError } from "./client";
export { type BlockNode, type DirtyBitmap, blockNode, blockNodes, findBitmap } from "./nodes";
export { type BitmapOptions, type TransactionAction, addBitmap, checkpointActions, removeBitmap, rotateCheckpoint } from "./bitmaps";
export { type Fleece, type FleeceOptions, endFleece, FLEECE_ID, startFleece } from "./fleece";
export { until } from "./until";
export { acquireQmp, type QmpSession } from "./sessions";
