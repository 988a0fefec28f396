import { QmpClient } from "./client";

/** A share of one QMP connection: release it when done (the last release closes the connection). */
export interface QmpSession {
  client: QmpClient;
  release(): Promise<void>;
}

interface Shared {
  client: Promise<QmpClient>;
  users: number;
}

const shared = new Map<string, Shared>();

/**
 * One QMP connection per QEMU monitor in this process, shared by whoever needs it at the same time (the
 * trackers of a machine's disks, a check): QEMU serves one monitor client at a time, so a second connection
 * would wait for the first to leave. Commands on one connection are matched by id, so users do not interfere.
 * A connection that closed (QEMU restarted) is replaced by the next acquire.
 */
export async function acquireQmp(socket: string): Promise<QmpSession> {
  let entry = shared.get(socket);
  if (entry && (await entry.client.then((c) => c.closed).catch(() => true))) {
    if (shared.get(socket) === entry) shared.delete(socket);
    entry = undefined;
  }
  entry = shared.get(socket);
  if (!entry) {
    entry = { client: QmpClient.connect(socket), users: 0 };
    shared.set(socket, entry);
    const connecting = entry;
    // A failed connect is not kept: the next acquire tries again.
    connecting.client.catch(() => {
      if (shared.get(socket) === connecting) shared.delete(socket);
    });
  }
  entry.users++;
  const mine = entry;
  let client: QmpClient;
  try {
    client = await mine.client;
  } catch (error) {
    mine.users--;
    throw error;
  }
  let released = false;
  return {
    client,
    async release() {
      if (released) return;
      released = true;
      if (--mine.users > 0) return;
      if (shared.get(socket) === mine) shared.delete(socket);
      await client.close();
    },
  };
}
