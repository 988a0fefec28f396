import { requestJson } from "../client/http";
import type { AgentIdentity } from "../engine/agents/registration";
import type { HeartbeatAnswer } from "../engine/agents/work";
import type { EncodedMap } from "../engine/agents/wire";
import type { IndexEntry } from "../engine/store/packed/pack-index";
import type { PointView } from "../engine/replication/points";
import type { AgentFailureReport, AgentWindowReport } from "../schema";

const q = encodeURIComponent;

/** The agent's calls to the engine: metadata only (blocks go to the store directly). */
export class AgentLink {
  constructor(
    readonly endpoint: string,
    private readonly identity: Pick<AgentIdentity, "host" | "token">,
  ) {}

  static register(endpoint: string, body: { host: string; site?: string; registrationKey: string }): Promise<AgentIdentity> {
    return requestJson<AgentIdentity>(endpoint, undefined, "POST", "/v1/agents/register", body);
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return requestJson<T>(this.endpoint, this.identity.token, method, `/v1/agents/${q(this.identity.host)}${path}`, body);
  }

  heartbeat(
    busy: string[],
    takeWork: boolean,
    extra: { fresh?: boolean; windowsClosed?: Array<{ item: string; message: string }> } = {},
  ): Promise<HeartbeatAnswer> {
    return this.call("POST", "/heartbeat", {
      busy,
      takeWork,
      ...(extra.fresh ? { fresh: true } : {}),
      ...(extra.windowsClosed?.length ? { windowsClosed: extra.windowsClosed } : {}),
    });
  }
  /** The vault's data key (null: the vault is not encrypted). */
  async dataKey(): Promise<Buffer | null> {
    const { dataKey } = await this.call<{ dataKey: string | null }>("GET", "/data-key");
    return dataKey === null ? null : Buffer.from(dataKey, "base64");
  }
  diskState(item: string, disk: string): Promise<{ version: number; map: EncodedMap | null }> {
    return this.call("GET", `/items/${q(item)}/disks/${q(disk)}/state`);
  }
  async lookup(ids: string[]): Promise<IndexEntry[]> {
    return (await this.call<{ blocks: IndexEntry[] }>("POST", "/blocks/lookup", { ids })).blocks;
  }
  async window(report: AgentWindowReport): Promise<PointView[]> {
    return (await this.call<{ points: PointView[] }>("POST", "/windows", report)).points;
  }
  async failure(report: AgentFailureReport): Promise<void> {
    await this.call("POST", "/failures", report);
  }
}
