// The quickstart's machines and the small workload that writes their disks.
//
//   npx ts-node examples/quickstart/workload.ts [DATA_DIR] [ORDERS]
//
// Creates the disk images under DATA_DIR (default .lifeboat-quickstart) when they are missing, then
// writes ORDERS (default 100) new orders into the shop database and a log line into the web server's
// image: the next replication cycle (or `lifeboat sync db`) ships just those blocks.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";

const IMAGE_BYTES = 4 * 1024 * 1024;

export interface QuickstartDisks {
  /** The web server's OS disk: a plain image. */
  webOs: string;
  /** The database server's OS disk. */
  dbOs: string;
  /** The database server's data disk: a SQLite database file. */
  dbData: string;
}

export function diskPaths(dataDir: string): QuickstartDisks {
  const disks = path.join(dataDir, "disks");
  return { webOs: path.join(disks, "web-os.img"), dbOs: path.join(disks, "db-os.img"), dbData: path.join(disks, "shop.db") };
}

/** A sparse image with a little content at its start, so it has blocks to replicate. */
function createImage(file: string): void {
  fs.writeFileSync(file, randomBytes(256 * 1024));
  fs.truncateSync(file, IMAGE_BYTES);
}

/** Appends `count` orders in one transaction; the database stays a single file (rollback journal). */
export function writeOrders(dbFile: string, count: number): number {
  const db = new Database(dbFile);
  try {
    db.exec("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, customer TEXT NOT NULL, cents INTEGER NOT NULL, at TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO orders(customer, cents, at) VALUES (?, ?, ?)");
    db.transaction(() => {
      for (let i = 0; i < count; i++)
        insert.run(`customer-${randomBytes(3).toString("hex")}`, 100 + Math.floor(Math.random() * 10_000), new Date().toISOString());
    })();
    return (db.prepare("SELECT count(*) AS n FROM orders").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Creates whatever disk is missing (never rewrites one that exists) and returns their paths. */
export function ensureDisks(dataDir: string): QuickstartDisks {
  const disks = diskPaths(dataDir);
  fs.mkdirSync(path.dirname(disks.webOs), { recursive: true });
  for (const image of [disks.webOs, disks.dbOs]) if (!fs.existsSync(image)) createImage(image);
  if (!fs.existsSync(disks.dbData)) writeOrders(disks.dbData, 10);
  return disks;
}

/** One round of the workload: new orders in the database, a log line in the web server's image. */
export function runWorkload(dataDir: string, orders: number): number {
  const disks = ensureDisks(dataDir);
  const total = writeOrders(disks.dbData, orders);
  const line = Buffer.from(`${new Date().toISOString()} GET /orders 200\n`);
  const fd = fs.openSync(disks.webOs, "r+");
  try {
    fs.writeSync(fd, line, 0, line.length, 512 * 1024 + Math.floor(Math.random() * 1024 * 1024));
  } finally {
    fs.closeSync(fd);
  }
  return total;
}

if (require.main === module) {
  const dataDir = path.resolve(process.argv[2] ?? ".lifeboat-quickstart");
  const orders = Number(process.argv[3] ?? 100);
  if (!Number.isInteger(orders) || orders < 0) throw new Error(`ORDERS must be a whole number, got '${process.argv[3]}'`);
  console.log(`${runWorkload(dataDir, orders)} orders in ${diskPaths(dataDir).dbData}`);
}
