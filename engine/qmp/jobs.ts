import type { QmpClient } from "./client";
import { QmpCommandError } from "./client";
import { until } from "./until";

interface JobInfo {
  id: string;
  status: string;
  error?: string;
}

/** The job of that id, as `query-jobs` lists it, or undefined once it is gone. */
export async function findJob(client: QmpClient, id: string): Promise<JobInfo | undefined> {
  return (await client.execute<JobInfo[]>("query-jobs")).find((job) => job.id === id);
}

/**
 * Run a command that starts a job without auto-dismiss (blockdev-create) and wait for it to conclude:
 * the job's own error (a file that cannot be created) rejects as the command's error. The concluded job is
 * dismissed either way, so no job is left behind.
 */
export async function runJob(client: QmpClient, command: string, jobId: string, args: Record<string, unknown>): Promise<void> {
  await client.execute(command, { "job-id": jobId, ...args });
  const job = await until(client, `job '${jobId}' to conclude`, ["JOB_STATUS_CHANGE"], async () => {
    const found = await findJob(client, jobId);
    return found === undefined || found.status === "concluded" ? (found ?? { id: jobId, status: "gone" }) : undefined;
  });
  if (job.status === "concluded") await client.execute("job-dismiss", { id: jobId });
  if (job.error) throw new QmpCommandError(command, "JobFailed", job.error);
}
