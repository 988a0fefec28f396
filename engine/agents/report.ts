import type { Vault } from "../vault";
import { AgentFailureReport, AgentWindowReport, parse, ValidationError, type FieldFailure } from "../../schema";
import { ConflictError, EngineError } from "../errors";
import { hooksOf, includedDisks, itemRow, type ItemRow } from "../inventory/items";
import { assertAllowed, type ItemOperation } from "../inventory/item-state";
import { stopHeldWork } from "../inventory/item-state-write";
import { loadDiskState } from "../replication/manifests";
import { recordWindow, type WindowEntry } from "../replication/cycle";
import { MINUTE } from "../clock";
import { recordFailure } from "../replication/retry";
import { recheckDamage } from "../replication/damage";
import type { PointView } from "../replication/points";
import { ZERO_ID } from "../replication/block-map";
import { registeredHost } from "./work";
import { diskSource } from "../tracking/disk-source";
import { applyChanges } from "./wire";
import { completeAgentJobs, failAgentJobs } from "../jobs/agent-jobs";
import { updateItemColumns } from "../catalog/items";

/** The check that an agent's window may land in the item's state, by what the agent was doing. */
const ACCEPTS: Record<AgentWindowReport["mode"], ItemOperation> = { initial: "acceptInitialWindow", delta: "acceptDeltaWindow", resync: "acceptResyncWindow" };

/**
 * Record the window an agent read: its blocks are already in packs of the shared store. The report is
 * checked first (the items are this host's, each disk's changes apply to the state version the agent
 * read, every new block is in the store or in the packs the agent names, and those packs exist); then
 * the block locations and the points commit in one transaction. A failed check changes nothing.
 */
export async function recordAgentWindow(vault: Vault, hostName: string, input: unknown): Promise<PointView[]> {
  const report = parse(AgentWindowReport, input, "agent report");
  const host = await registeredHost(vault, hostName);
  if (report.capturedAt > vault.clock.now() + MINUTE) {
    throw new ValidationError("agent report", [
      { property: "capturedAt", reason: `lies in the future (${new Date(report.capturedAt).toISOString()}); the agent's clock correction is off` },
    ]);
  }
  const entries: WindowEntry[] = [];
  const newIds = new Set<string>();
  for (const [n, part] of report.items.entries()) {
    const item = await itemRow(vault, part.item);
    if (item.host !== host.name || item.site_id !== host.siteId)
      throw new EngineError("Forbidden", `'${item.name}' is not on host '${host.name}'`, { field: `items.${n}.item` });
    assertAllowed(item, ACCEPTS[report.mode], { field: `items.${n}.item` });
    const disks = await includedDisks(vault, item.id);
    const results = [];
    for (const [i, disk] of disks.entries()) {
      const property = `items.${n}.disks.${i}`;
      const changes = part.disks.find((d) => d.disk === disk.name);
      if (!changes) throw new ValidationError("agent report", [{ property, reason: `disk '${disk.name}' of '${item.name}' is missing from the report` }]);
      if (changes.baseVersion !== disk.state_version)
        throw new ConflictError(
          `disk '${disk.name}' of '${item.name}' moved on (version ${disk.state_version}, the agent read ${changes.baseVersion}); read it again`,
          property,
        );
      const base = report.mode === "initial" ? null : await loadDiskState(vault, disk.id, vault.blockSize);
      const { map, changed } = applyChanges(base, changes, vault.blockSize, property);
      for (const id of changed) if (!id.equals(ZERO_ID)) newIds.add(id.toString("hex"));
      // A disk's share of the item's figures is not reported; the item's totals go on its first disk.
      // The checkpoint matters only for a disk read through QEMU: a file's next read scans it whatever is said.
      const tracking = diskSource(item, disk).kind === "qemu" ? changes.tracking : undefined;
      results.push({
        map,
        tracking,
        ...(i === 0
          ? { bytesRead: part.bytesRead, blocksChanged: part.blocksChanged, bytesStored: part.bytesStored }
          : { bytesRead: 0, blocksChanged: 0, bytesStored: 0 }),
      });
    }
    entries.push({ item, disks, results, app: report.appConsistent && Boolean(hooksOf(item).quiesce) });
  }
  await checkBlocks(vault, report, newIds);
  const points = await recordWindow(vault, entries, report.capturedAt, report.durationMs, async (trx) => {
    // A block the agent wrote again (a repair, or an entry whose pack was short) moves to its checked new copy.
    await vault.packs.adopt(report.blocks, trx);
  });
  if (report.mode === "resync") await recheckDamage(vault); // what verify found and the agent rewrote reads intact now
  for (const [n, point] of points.entries()) {
    const part = report.items[n];
    await completeAgentJobs(vault, point.item, {
      point: point.id,
      bytesRead: part.bytesRead,
      bytesStored: part.bytesStored,
      ...(report.mode === "resync" ? { differingBlocks: part.blocksChanged, repairedBlocks: part.repaired } : {}),
    });
  }
  return points;
}

/** Every block the new maps use is in the store already or in a pack the agent wrote, which must exist and hold it. */
async function checkBlocks(vault: Vault, report: AgentWindowReport, newIds: Set<string>): Promise<void> {
  const failures: FieldFailure[] = [];
  const reported = new Set(report.blocks.map((b) => b.id));
  for (const { pack, end, size } of await vault.packs.unfit(report.blocks)) {
    if (size === undefined) failures.push({ property: "blocks", reason: `pack ${pack} is not in the store at ${vault.packs.where}` });
    else failures.push({ property: "blocks", reason: `pack ${pack} holds ${size} bytes; the report places blocks up to byte ${end}` });
  }
  const unknown = [...newIds].filter((id) => !reported.has(id));
  const present = new Set((await vault.packs.locate(unknown)).map((e) => e.id));
  const missing = unknown.filter((id) => !present.has(id));
  // Gone since the agent asked (retention collected it): recoverable, the agent ships it next time.
  if (missing.length)
    throw new EngineError(
      "BlockMissing",
      `${missing.length} block(s) the report relies on are not in the store (first: ${missing[0]}); the agent sends them again`,
      { field: "blocks", recoverable: true },
    );
  if (failures.length) throw new ValidationError("agent report", failures);
}

/** An agent could not read a window: the items' failure is recorded as if the engine had failed, and their waiting jobs fail. */
export async function recordAgentFailure(vault: Vault, hostName: string, input: unknown): Promise<void> {
  const report = parse(AgentFailureReport, input, "agent failure");
  const host = await registeredHost(vault, hostName);
  const items: ItemRow[] = [];
  for (const name of report.items) {
    const item = await itemRow(vault, name);
    if (item.host !== host.name || item.site_id !== host.siteId)
      throw new EngineError("Forbidden", `'${name}' is not on host '${host.name}'`, { field: "items" });
    items.push(item);
  }
  const error = new EngineError(report.error.code, `agent on ${host.name}: ${report.error.message}`, { recoverable: report.error.recoverable });
  for (const item of items) {
    await stopHeldWork(vault.db, item.id);
    await updateItemColumns(vault.db, item.id, { lease_until: null });
    await failAgentJobs(vault, item.name, error);
  }
  await recordFailure(vault, items, error, { measurePending: false }); // the disks are the agent's to read
}
