/** Worker thread entry: runs decode jobs from the pool (decoder.ts), one at a time, in order. */
import { serveJobs } from "../../workers/worker-pool";
import { runDecodeJob, transfers } from "./decode-job";

serveJobs("decode-worker", runDecodeJob, transfers);
