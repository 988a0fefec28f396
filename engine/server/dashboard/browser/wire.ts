/**
 * The parts of the API's answers this page reads. Enums come from the schema; the shapes follow the
 * server's VaultStatus, ItemStatus, RpoHistory, PointView and JobView, which import Node modules and so
 * cannot be imported into browser code.
 */
import type { Health } from "../../../../schema/common";
import type { ErrorCode } from "../../../../schema/errors";
import type { ActiveSite, FailoverState, JobState, JobType, PointKind, ProtectionState } from "../../../../schema/state";

export interface RegistrationKeyState {
  createdAt: string;
  expiresAt: string;
  expired: boolean;
  revokedAt: string | null;
}

export interface ItemStatus {
  name: string;
  policy: string;
  group: string | null;
  site: string;
  host: string | null;
  state: ProtectionState;
  failoverState: FailoverState | null;
  health: Health;
  healthErrors: Array<{ code: string; message: string }>;
  rpoSeconds: number | null;
  rpoThresholdSeconds: number;
  latestPoint: { id: string; capturedAt: string; kind: PointKind } | null;
  points: number;
  activeSite: ActiveSite;
  lastDrillAt: string | null;
  drillRecommended: boolean;
}

export interface VaultStatus {
  vault: { id: string; dir: string; registrationKey: RegistrationKeyState };
  items: ItemStatus[];
}

/** GET /v1/items/NAME/rpo-history: the sawtooth, newest sample last. */
export interface RpoHistory {
  item: string;
  from: string;
  to: string;
  rpoThresholdSeconds: number;
  samples: Array<{ t: string; rpoSeconds: number }>;
}

export interface Point {
  id: string;
  capturedAt: string;
  kind: PointKind;
}

export interface Task {
  name: string;
  state: JobState;
  progress: number;
  detail: string | null;
  error: string | null;
  children: Task[];
}

export interface Job {
  id: string;
  type: JobType;
  target: string;
  state: JobState;
  createdAt: string;
  durationMs: number | null;
  error: { code: ErrorCode; message: string } | null;
  tasks: Task[];
}
