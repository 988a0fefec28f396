import { promises as fs, constants } from "node:fs";
import { diskSize } from "./block-reader";

/**
 * Whether the engine can replicate a disk at this path: it exists, is a regular file or a block device,
 * and is readable. Returns its size, or the reason (as it follows the path in a message) it cannot.
 */
export async function checkDisk(file: string): Promise<{ size: number; problem?: undefined } | { size?: undefined; problem: string }> {
  try {
    await fs.access(file, constants.R_OK);
    return { size: await diskSize(file) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "does not exist"
        : code === "EACCES" || code === "EPERM"
          ? "is not readable"
          : code === "ENODEV"
            ? "is neither a regular file nor a block device"
            : (error as Error).message;
    return { problem: reason };
  }
}
