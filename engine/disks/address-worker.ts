/** Worker thread entry: runs address jobs from the pool (address-pool.ts), one at a time, in order. */
import { parentPort } from "node:worker_threads";
import { runAddressJob, transfers, type AddressJob } from "./address-job";

const port = parentPort;
if (!port) throw new Error("address-worker runs as a worker thread, started by address-pool");
port.on("message", (job: AddressJob) => {
  const result = runAddressJob(job);
  port.postMessage(result, transfers(result));
});
