import { z } from "zod";

/** Names of vault objects: used in paths, CLI arguments and URLs, so kept to a safe alphabet. */
export const Name = z
  .string()
  .min(1, "must not be empty")
  .max(63, "must be at most 63 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must start with a letter or digit and use only letters, digits, '.', '_' and '-'");

/** Shell command run by the engine (pause/resume, quiesce/unquiesce). */
export const Command = z.string().min(1, "must not be empty").max(4096);

/** Local time of day, "HH:MM". */
export const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time of day HH:MM (00:00 to 23:59)");

export const Health = z.enum(["Normal", "Warning", "Critical"]);
export type Health = z.infer<typeof Health>;

/**
 * A filesystem path. Paths the daemon itself reads or writes must also lie inside its allowed directories
 * (checked by the server after validation); `format: "path"` marks them in the OpenAPI document.
 */
export const fsPath = (message = "must not be empty") =>
  z
    .string()
    .min(1, message)
    .meta({ format: "path", description: "an absolute path; one the engine itself reads or writes must lie inside the directories it allows" });
