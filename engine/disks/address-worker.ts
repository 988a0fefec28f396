/** Worker thread entry: runs address jobs from the pool (address-pool.ts), one at a time, in order. */
import { runAddressJob, transfers } from "./address-job";
import { serveJobs } from "../workers/worker-pool";

serveJobs("address-worker", runAddressJob, transfers);
