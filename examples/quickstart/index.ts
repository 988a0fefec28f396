// Quickstart: a disaster recovery environment for a small shop — a web server and a database server
// whose disks are local image files (the database's data disk is a real SQLite database) — replicated
// into a local vault, with a recovery site, a recovery network and a recovery plan (database first).
//
// Config (all optional):
//   dataDir    where the disks and the recovery site live (default .lifeboat-quickstart, relative to the project)
//   vaultPath  the vault directory (default <dataDir>/vault)
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as lifeboat from "lifeboat";
import { ensureDisks } from "./workload";

const config = new pulumi.Config();
const dataDir = path.resolve(config.get("dataDir") ?? ".lifeboat-quickstart");
const disks = ensureDisks(dataDir);

const shop = new lifeboat.DisasterRecoveryEnvironment("quickstart", {
  vault: { path: config.get("vaultPath") ?? path.join(dataDir, "vault") },
  primary: { name: "hq", kind: "physical" },
  recovery: {
    name: "dr",
    path: path.join(dataDir, "recovery"),
    network: { name: "dr-net", subnets: ["10.20.0.0/24"] },
  },
  policy: { name: "standard", copyFrequency: "5m", retentionHours: 24, rpoThresholdMinutes: 15 },
  machines: [
    {
      name: "db",
      disks: [
        { name: "os", path: disks.dbOs, os: true },
        { name: "data", path: disks.dbData },
      ],
      nics: [{ network: "corp" }],
    },
    { name: "web", disks: [{ name: "os", path: disks.webOs, os: true }], nics: [{ network: "corp" }] },
  ],
  // The database comes up before the web server that needs it.
  groups: [["db"], ["web"]],
});

export const vault = shop.vault.path;
export const plan = shop.plan.name;
export const summary = shop.summary;
