import * as path from "node:path";
import { transfers, type AddressJob, type AddressResult } from "./address-job";
import { poolThreads, WorkerPool } from "../workers/worker-pool";

/** Worker threads that address blocks (SHA-256, and zstd frames) beside the main thread. */
export type AddressPool = WorkerPool<AddressJob, AddressResult>;

let shared: AddressPool | undefined;

/** The process's pool: one for every capture, its idle threads stopped and never keeping the process alive. */
export function sharedAddressPool(): AddressPool {
  return (shared ??= new WorkerPool<AddressJob, AddressResult>(poolThreads(), path.join(__dirname, "address-worker"), transfers));
}
