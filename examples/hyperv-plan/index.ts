// A three-tier shop on a Hyper-V site (hosts hv01 and hv02) protected with the individual resources,
// and a recovery plan that brings it up in order: database, then application, then web, with scripts
// before and after groups and a manual step that only a planned failover waits for.
//
// Config (all optional):
//   dataDir    where the disk images, the recovery site and the plan's log live (default .lifeboat-hyperv-plan)
//   vaultPath  the vault directory (default <dataDir>/vault)
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as lifeboat from "lifeboat";

const config = new pulumi.Config();
const dataDir = path.resolve(config.get("dataDir") ?? ".lifeboat-hyperv-plan");
const planLog = path.join(dataDir, "plan.log");

/** Stand-ins for the machines' VHDX files: sparse images, created once. */
function diskImage(name: string, mib: number): string {
  const file = path.join(dataDir, "vhds", `${name}.img`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${name}\n`);
    fs.truncateSync(file, mib * 1024 * 1024);
  }
  return file;
}

const vault = new lifeboat.Vault("vault", { path: config.get("vaultPath") ?? path.join(dataDir, "vault") });
const hq = new lifeboat.Site("hq", { vault: vault.path, kind: "hyperv", hosts: ["hv01", "hv02"] });
const dr = new lifeboat.Site("dr", { vault: vault.path, kind: "recovery", path: path.join(dataDir, "recovery") });
const gold = new lifeboat.ReplicationPolicy("gold", {
  vault: vault.path,
  copyFrequency: "30s",
  retentionHours: 24,
  appConsistentHours: 4,
  rpoThresholdMinutes: 15,
});
const drNet = new lifeboat.Network("dr-net", { vault: vault.path, site: "dr", subnets: ["10.30.1.0/24", "10.30.2.0/24"] }, { dependsOn: [dr] });
const corp = new lifeboat.NetworkMapping("corp", { vault: vault.path, source: "corp", target: "dr-net" }, { dependsOn: [drNet] });

/** One tier: a Hyper-V VM with an OS disk and, for the database, a data disk; NIC on the corp network. */
function machine(name: string, host: string, dataDiskMib?: number): lifeboat.ProtectedItem {
  const disks = [{ name: "os", path: diskImage(`${name}-os`, 8), os: true }];
  if (dataDiskMib) disks.push({ name: "data", path: diskImage(`${name}-data`, dataDiskMib), os: false });
  return new lifeboat.ProtectedItem(
    name,
    {
      vault: vault.path,
      site: "hq",
      host,
      policy: "gold",
      generation: 2,
      osType: "windows",
      disks,
      nics: [{ network: "corp" }],
      recovery: { site: "dr", targetSize: "Standard_D2s_v3" },
    },
    { dependsOn: [hq, dr, gold, corp] },
  );
}

const db = machine("db", "hv01", 16);
const app = machine("app", "hv02");
const web = machine("web", "hv02");

/** A script action that appends to the plan's log (LIFEBOAT_* tell it which run and group it is in). */
const logStep = (name: string, message: string) => ({
  name,
  kind: "script" as const,
  command: `echo "$LIFEBOAT_FAILOVER_TYPE $LIFEBOAT_DIRECTION group $LIFEBOAT_GROUP: ${message}" >> '${planLog}'`,
  timeoutSeconds: 60,
});

// Groups name their machines by the ProtectedItems' `name` outputs, so the plan waits for them.
const shop = new lifeboat.RecoveryPlan("shop", {
  vault: vault.path,
  groups: [
    { items: [db.name], before: [logStep("drain-connections", "connections drained")], after: [logStep("check-db", "database answering")] },
    { items: [app.name], after: [logStep("warm-cache", "application caches warmed")] },
    {
      items: [web.name],
      after: [
        logStep("smoke-test", "storefront smoke test passed"),
        {
          name: "switch-dns",
          kind: "manual" as const,
          instructions: "Point shop.example.com at the recovery site's web address, then resume the plan's job (lifeboat jobs resume JOB).",
          failoverTypes: ["planned" as const],
        },
      ],
    },
  ],
});

export const vaultPath = vault.path;
export const plan = shop.name;
export const machines = pulumi
  .all([db.health, app.health, web.health])
  .apply(([dbHealth, appHealth, webHealth]) => ({ db: dbHealth, app: appHealth, web: webHealth }));
