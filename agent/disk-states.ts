import type { BlockMap } from "../engine/replication/block-map";
import { decodeMap } from "../engine/agents/wire";
import type { AgentLink } from "./link";

/**
 * The replication state of each disk the agent reads (the map its next window compares against), kept
 * between windows and fetched from the engine only when the engine's version moved on: after a restart,
 * a move from another host, or a resync elsewhere.
 */
export class DiskStates {
  private readonly states = new Map<string, { version: number; map: BlockMap | null }>();

  constructor(private readonly link: AgentLink) {}

  async get(item: string, disk: { name: string; stateVersion: number }): Promise<{ version: number; map: BlockMap | null }> {
    const key = `${item}/${disk.name}`;
    const known = this.states.get(key);
    if (known && known.version === disk.stateVersion) return known;
    const fetched = await this.link.diskState(item, disk.name);
    const state = { version: fetched.version, map: fetched.map && decodeMap(fetched.map) };
    this.states.set(key, state);
    return state;
  }

  set(item: string, disk: string, version: number, map: BlockMap): void {
    this.states.set(`${item}/${disk}`, { version, map });
  }
}
