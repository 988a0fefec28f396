import { promises as fs } from "node:fs";

/** Whether a path exists (as far as this process can see it: access refused counts as absent). */
export const exists = (file: string): Promise<boolean> =>
  fs.access(file).then(
    () => true,
    () => false,
  );

/** A read of a path that may be gone meanwhile: undefined when it is (ENOENT); any other error stands. */
export const unlessMissing = <T>(read: Promise<T>): Promise<T | undefined> =>
  read.catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? undefined : Promise.reject(error)));
