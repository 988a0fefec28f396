import { promises as fs } from "node:fs";

/** Whether a path exists (as far as this process can see it: access refused counts as absent). */
export const exists = (file: string): Promise<boolean> => fs.access(file).then(() => true, () => false);
