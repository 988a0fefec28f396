// The deploy benchmark's estate: the specs of DEPLOY_RESOURCES resources (a vault, two sites,
// policies, recovery networks and their mappings, protected items on small sparse images, recovery
// plans), written once to layout.json so the generated Pulumi program and the direct-API baseline
// declare exactly the same things.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { ItemSpecInput, NetworkMappingSpec, NetworkSpec, PlanSpecInput, PolicySpecInput, SiteSpecInput } from "../../schema";
import { BLOCK_BYTES } from "../common/image";
import type { Random } from "../common/random";

export interface DeployLayout {
  vault: string;
  sites: SiteSpecInput[];
  policies: PolicySpecInput[];
  networks: NetworkSpec[];
  mappings: NetworkMappingSpec[];
  items: ItemSpecInput[];
  plans: PlanSpecInput[];
}

const POLICIES = 4;
const NETWORKS = 4;
const PLANS = 5;
const PLAN_GROUP_SIZE = 6;
/** Each disk: 16 blocks (1 MiB), two of them data, the rest holes. */
export const DISK_BLOCKS = 16;
const DATA_BLOCKS = [0, 9];

/** How many resources a layout declares (the vault counts as one). */
export const resourceCount = (l: DeployLayout): number =>
  1 + l.sites.length + l.policies.length + l.networks.length + l.mappings.length + l.items.length + l.plans.length;

/** A layout of `total` resources: the fixed part above, protected items for the rest. */
export function makeLayout(dir: string, total: number): DeployLayout {
  const fixed = 1 + 2 + POLICIES + NETWORKS * 2 + PLANS;
  const count = total - fixed;
  if (count < PLANS) throw new Error(`a deploy layout needs at least ${fixed + PLANS} resources, got ${total}`);
  const pad = (i: number) => String(i).padStart(3, "0");
  const items: ItemSpecInput[] = Array.from({ length: count }, (_, i) => ({
    name: `item-${pad(i)}`,
    site: "hq",
    host: `host-${i % 4}`,
    policy: `policy-${i % POLICIES}`,
    disks: [{ name: "os", path: path.join(dir, "disks", `item-${pad(i)}.img`), os: true }],
    nics: [{ network: `corp-${i % NETWORKS}` }],
    recovery: { site: "dr" },
  }));
  const perPlan = Math.ceil(count / PLANS);
  const plans = Array.from({ length: PLANS }, (_, p) => {
    const names = items.slice(p * perPlan, (p + 1) * perPlan).map((item) => item.name);
    const groups = [];
    for (let g = 0; g < names.length; g += PLAN_GROUP_SIZE) groups.push({ items: names.slice(g, g + PLAN_GROUP_SIZE) });
    return { name: `plan-${p}`, groups };
  });
  return {
    vault: path.join(dir, "vault"),
    sites: [
      { name: "hq", kind: "physical", hosts: ["host-0", "host-1", "host-2", "host-3"] },
      { name: "dr", kind: "recovery", path: path.join(dir, "recovery") },
    ],
    policies: Array.from({ length: POLICIES }, (_, i) => ({ name: `policy-${i}`, copyFrequency: "15m", retentionHours: 24 })),
    networks: Array.from({ length: NETWORKS }, (_, i) => ({ name: `net-${i}`, site: "dr", subnets: [`10.40.${i}.0/24`] })),
    mappings: Array.from({ length: NETWORKS }, (_, i) => ({ source: `corp-${i}`, target: `net-${i}` })),
    items,
    plans,
  };
}

/** Every item's disk: a sparse image with a few random blocks, so initial replication has data to ship. */
export async function makeDisks(layout: DeployLayout, random: Random): Promise<void> {
  for (const item of layout.items) {
    const file = item.disks[0].path!;
    await fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.open(file, "w");
    try {
      for (const block of DATA_BLOCKS) {
        const data = Buffer.alloc(BLOCK_BYTES);
        for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(random.below(2 ** 32), i);
        await handle.write(data, 0, data.length, block * BLOCK_BYTES);
      }
      await handle.truncate(DISK_BLOCKS * BLOCK_BYTES);
    } finally {
      await handle.close();
    }
  }
}

/**
 * The Pulumi program: one resource per spec of layout.json (its path is the `layout` config), with
 * the dependencies a user would write. Plain JavaScript, so no TypeScript compile is measured.
 */
const PROGRAM = `"use strict";
const fs = require("node:fs");
const pulumi = require("@pulumi/pulumi");
const lifeboat = require("lifeboat");

const layout = JSON.parse(fs.readFileSync(new pulumi.Config().require("layout"), "utf8"));
const vault = new lifeboat.Vault("vault", { path: layout.vault }).path;
const declare = (Kind, name, spec, dependsOn) => new lifeboat[Kind](name, { vault, ...spec }, { dependsOn });

const sites = layout.sites.map((s) => declare("Site", s.name, s, []));
const policies = layout.policies.map((p) => declare("ReplicationPolicy", p.name, p, []));
const networks = layout.networks.map((n) => declare("Network", n.name, n, sites));
const mappings = layout.mappings.map((m) => declare("NetworkMapping", "map-" + m.source, m, networks));
const items = new Map(layout.items.map((i) => [i.name, declare("ProtectedItem", i.name, i, [...sites, ...policies, ...mappings])]));
for (const plan of layout.plans) {
  // Machines by their ProtectedItems' name outputs: the plan waits for them.
  const groups = plan.groups.map((g) => pulumi.output({ ...g, items: g.items.map((name) => items.get(name).name) }));
  declare("RecoveryPlan", plan.name, { ...plan, groups }, []);
}
`;

export async function writeLayout(file: string, layout: DeployLayout): Promise<string> {
  await fs.writeFile(file, JSON.stringify(layout, null, 2));
  return file;
}

/** The same vault with nothing in it: what a run costs before any resource. */
export const vaultOnly = (layout: DeployLayout): DeployLayout => ({
  vault: layout.vault,
  sites: [],
  policies: [],
  networks: [],
  mappings: [],
  items: [],
  plans: [],
});

/** Writes layout.json and the program's project (Pulumi.yaml, package.json, index.js) into `dir`. */
export async function writeProgram(dir: string, layout: DeployLayout): Promise<{ programDir: string; layoutFile: string }> {
  const programDir = path.join(dir, "program");
  await fs.mkdir(programDir, { recursive: true });
  const layoutFile = await writeLayout(path.join(dir, "layout.json"), layout);
  await fs.writeFile(path.join(programDir, "Pulumi.yaml"), "name: lifeboat-deploy-bench\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n");
  await fs.writeFile(path.join(programDir, "package.json"), JSON.stringify({ name: "lifeboat-deploy-bench", private: true, main: "index.js" }));
  await fs.writeFile(path.join(programDir, "index.js"), PROGRAM);
  return { programDir, layoutFile };
}
