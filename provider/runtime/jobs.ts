import type { JobView, TaskView } from "../../engine/jobs/jobs";

/** The deepest failed task of a job: its path from the top ("Failover > Create machine") and error. */
function failedTask(tasks: TaskView[], trail: string[] = []): { path: string; error: string | null } | undefined {
  for (const task of tasks) {
    if (task.state !== "Failed") continue;
    const path = [...trail, task.name];
    return failedTask(task.children, path) ?? { path: path.join(" > "), error: task.error };
  }
  return undefined;
}

/**
 * A finished job, or an error naming the machine (the job's target) and the task that failed. A job
 * suspended until a set time (enable-protection before the policy's initial replication start) is
 * under way as planned; one waiting for a person is not: the error says which job to resume.
 */
export function succeeded(job: JobView): JobView {
  if (job.state === "Succeeded") return job;
  if (job.state === "Suspended" && (job.result as { waitingUntil?: string } | null)?.waitingUntil) return job;
  if (job.state === "Suspended")
    throw new Error(`${job.type} of '${job.target}' waits for a manual action (job ${job.id}); finish it and run 'lifeboat jobs resume ${job.id}'`);
  const task = failedTask(job.tasks);
  const reason = task?.error ?? job.error?.message ?? "no reason given";
  throw new Error(`${job.type} of '${job.target}' ${job.state.toLowerCase()}${task ? ` at task '${task.path}'` : ""}: ${reason} (job ${job.id})`);
}
