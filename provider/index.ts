// The Lifeboat Pulumi provider: dynamic resources over the engine's HTTP API.
export { Vault, type VaultArgs } from "./vault";
export { Site, type SiteArgs } from "./site";
export { ReplicationPolicy, type ReplicationPolicyArgs } from "./replication-policy";
export { Network, NetworkMapping, type NetworkArgs, type NetworkMappingArgs } from "./network";
export { ProtectedItem, type ProtectedItemArgs } from "./protected-item";
export { RecoveryPlan, type RecoveryPlanArgs } from "./recovery-plan";
export { Drill, type DrillArgs, type DrillMachine, type DrillPoint, type DrillReport } from "./drill";
