/** A failure of one resource's step; the message names the resource and the operation. */
export class StepError extends Error {
  constructor(type: string, name: string, what: string, reason: string) {
    super(`${name} [${type}]: ${what} failed: ${reason}`);
  }
}
