export { Engine, type VaultStatus } from "./engine";
export { ManualClock, systemClock, type Clock, MINUTE, HOUR, DAY } from "./clock";
export { EngineError, classify } from "./errors";
export type { JobView, TaskView } from "./jobs/jobs";
export type { ItemStatus, HealthError } from "./items/health";
export type { PointView } from "./replication/points";
export type { BlockStore } from "./store/block-store";
export { BlockStoreDecorator } from "./store/block-store";
export { retryDelayMs } from "./replication/retry";
