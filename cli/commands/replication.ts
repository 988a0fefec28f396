import * as path from "node:path";
import type { Command } from "commander";
import { numberArg, wantsJson, withEngine } from "../context";
import { bytes, print, reportJob, table } from "../format";

const collect = (value: string, previous: string[]) => [...previous, value];

/** "--disk NAME=PATH[:os]": the path may itself contain ':' and '='; only a trailing ":os" is a flag. */
export function parseDisk(value: string): { name: string; path: string; os: boolean } | string {
  const eq = value.indexOf("=");
  if (eq <= 0) return value;
  const rest = value.slice(eq + 1);
  const os = rest.endsWith(":os");
  const file = os ? rest.slice(0, -3) : rest;
  return { name: value.slice(0, eq), path: file ? path.resolve(file) : file, os };
}

/** "--disk NAME=NODE[:os]" of a machine served by QEMU (--qmp): the value is a block node name, not a path. */
function parseNodeDisk(value: string): { name: string; node: string; os: boolean } | string {
  const disk = parseDisk(value);
  if (typeof disk === "string") return disk;
  const rest = value.slice(value.indexOf("=") + 1);
  return { name: disk.name, node: disk.os ? rest.slice(0, -3) : rest, os: disk.os };
}

interface ProtectFlags {
  site: string;
  policy: string;
  host?: string;
  qmp?: string;
  disk: string[];
  exclude: string[];
  group?: string;
  generation?: number;
  osType?: string;
  pauseCmd?: string;
  resumeCmd?: string;
  quiesceCmd?: string;
  unquiesceCmd?: string;
  shutdownCmd?: string;
  nic: string[];
  recoverySite?: string;
  targetName?: string;
  targetSize?: string;
  targetNetwork?: string;
  targetSubnet?: string;
  targetIp?: string;
  compute?: string;
  startCmd?: string;
  stopCmd?: string;
  healthCheck?: string;
  healthTimeoutSeconds?: number;
}

/** "--nic NETWORK[=IP]" */
const parseNic = (value: string) => {
  const [network, ip] = value.split("=");
  return ip ? { network, ip } : { network };
};

const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function recoveryOf(f: ProtectFlags) {
  if (!f.recoverySite) return undefined;
  const compute = defined({ driver: f.compute, start: f.startCmd, stop: f.stopCmd, healthCheck: f.healthCheck, healthTimeoutSeconds: f.healthTimeoutSeconds });
  return defined({
    site: f.recoverySite,
    targetName: f.targetName,
    targetSize: f.targetSize,
    network: f.targetNetwork,
    subnet: f.targetSubnet,
    ip: f.targetIp,
    compute: Object.keys(compute).length ? compute : undefined,
  });
}

export function register(program: Command): void {
  program
    .command("protect <name>")
    .description("enable protection of a machine: initial replication, then a first recovery point")
    .requiredOption("--site <site>", "the machine's source site")
    .requiredOption("--policy <policy>", "replication policy")
    .option("--host <host>", "the source host in the site")
    .option("--qmp <socket>", "the QMP socket of the QEMU serving the machine (a kvm site); each --disk then names a block node")
    .option("--disk <name=path[:os]>", "a disk (repeatable): name=path, or name=node with --qmp; ':os' marks the OS disk", collect, [])
    .option("--exclude <disk>", "leave a disk out of replication (repeatable; not the OS disk)", collect, [])
    .option("--group <group>", "replication group: its machines share multi-VM consistent points")
    .option("--generation <1|2>", "machine generation", numberArg)
    .option("--os-type <linux|windows>", "operating system")
    .option("--pause-cmd <cmd>", "stops the machine for a crash-consistent capture")
    .option("--resume-cmd <cmd>", "continues it")
    .option("--quiesce-cmd <cmd>", "flushes and holds application writes for an app-consistent point")
    .option("--unquiesce-cmd <cmd>", "releases them")
    .option("--shutdown-cmd <cmd>", "shuts the source down (planned failover)")
    .option("--nic <network[=ip]>", "a source NIC and its network (repeatable)", collect, [])
    .option("--recovery-site <site>", "the recovery site it fails over to")
    .option("--target-name <name>", "its name at the recovery site (default: the item's name)")
    .option("--target-size <size>", "target size, e.g. Standard_A2_v2")
    .option("--target-network <network>", "recovery network (default: mapped from the source NIC's network)")
    .option("--target-subnet <cidr>", "subnet of the recovery network")
    .option("--target-ip <ip>", "static IP at the recovery site (default: allocated from the subnet)")
    .option("--compute <none|process>", "how the failed-over machine is started")
    .option("--start-cmd <cmd>", "process driver: starts the machine")
    .option("--stop-cmd <cmd>", "process driver: stops it")
    .option("--health-check <cmd|url>", "process driver: passes once the machine is up")
    .option("--health-timeout-seconds <s>", "how long the health check may take", numberArg)
    .action(async (name: string, f: ProtectFlags, command: Command) => {
      const hooks = defined({ pause: f.pauseCmd, resume: f.resumeCmd, quiesce: f.quiesceCmd, unquiesce: f.unquiesceCmd, shutdown: f.shutdownCmd });
      const spec = {
        name,
        site: f.site,
        host: f.host,
        policy: f.policy,
        qmp: f.qmp === undefined ? undefined : path.resolve(f.qmp),
        disks: f.disk.map((d) => (f.qmp === undefined ? parseDisk(d) : parseNodeDisk(d))),
        excludedDisks: f.exclude,
        group: f.group,
        generation: f.generation,
        osType: f.osType,
        hooks,
        nics: f.nic.map(parseNic),
        recovery: recoveryOf(f),
      };
      const job = await withEngine(command, (e) => e.protect(JSON.parse(JSON.stringify(spec))));
      reportJob(job, wantsJson(command));
    });

  program
    .command("unprotect <name>")
    .description("disable protection: removes the machine's recovery points, replication state and drill machine (space is freed by the next retention)")
    .action(async (name: string, _opts, command: Command) => {
      reportJob(await withEngine(command, (e) => e.unprotect(name)), wantsJson(command));
    });

  program
    .command("sync <name>")
    .description("run one replication cycle now (a machine in a group is captured with its group)")
    .option("--app-consistent", "run the quiesce hooks and make an app-consistent point")
    .action(async (name: string, opts: { appConsistent?: boolean }, command: Command) => {
      reportJob(await withEngine(command, (e) => e.replicateNow(name, { appConsistent: opts.appConsistent })), wantsJson(command));
    });

  program
    .command("points <name>")
    .description("list a machine's recovery points, oldest first")
    .action(async (name: string, _opts, command: Command) => {
      const points = await withEngine(command, (e) => e.points(name));
      print(points, wantsJson(command), () =>
        table([
          ["ID", "CAPTURED", "KIND", "GROUP-WINDOW", "CHANGED-BLOCKS", "STORED", "DAMAGED"],
          ...points.map((p) => [
            p.id,
            p.capturedAt,
            p.kind,
            p.windowId,
            p.blocksChanged,
            bytes(p.bytesStored),
            p.damaged ? p.damagedDisks.map((d) => `${d.disk}: ${d.blocks} block(s)`).join(", ") : null,
          ]),
        ]),
      );
    });

  program
    .command("materialize <name>")
    .description("write a machine's disks at a recovery point, one file per disk")
    .requiredOption("--point <id|latest>", "recovery point id, or latest")
    .requiredOption("--out <dir>", "directory to write the disk files into")
    .action(async (name: string, opts: { point: string; out: string }, command: Command) => {
      reportJob(await withEngine(command, (e) => e.materialize(name, opts.point, path.resolve(opts.out))), wantsJson(command));
    });

  program
    .command("resync <name>")
    .description("compare source and replica block by block and ship only what differs or is damaged")
    .action(async (name: string, _opts, command: Command) => {
      reportJob(await withEngine(command, (e) => e.resync(name)), wantsJson(command));
    });

  program
    .command("retention")
    .description("delete points past their policy's retention now and give unreferenced space back")
    .action(async (_opts, command: Command) => {
      reportJob(await withEngine(command, (e) => e.applyRetention()), wantsJson(command));
    });
}
