import { spawn } from "node:child_process";
import { EngineError } from "../errors";

const HOOK_TIMEOUT_MS = 120_000;

/** Run a machine's hook command with sh; non-zero exit, a signal or a timeout is a HookFailed error. */
export function runHook(label: string, command: string, env: Record<string, string>, timeoutMs = HOOK_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new EngineError("HookFailed", `${label} hook could not start: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const why = signal ? `was killed by ${signal}` : `exited with ${code}`;
        reject(new EngineError("HookFailed", `${label} hook '${command}' ${why}${stderr ? `: ${stderr.trim()}` : ""}`));
      }
    });
  });
}
