/**
 * A seeded pseudo-random generator (mulberry32). The bench draws the image layout, its content and the
 * changed blocks from one seed, so every run measures the same work and runs can be compared.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform unsigned 32-bit integer. */
  uint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.uint32() / 2 ** 32) * n);
  }

  /** Fill `target` with uniform bytes: content no compressor can shrink. */
  fill(target: Uint8Array): void {
    const words = new Uint32Array(Math.ceil(target.length / 4));
    for (let i = 0; i < words.length; i++) words[i] = this.uint32();
    target.set(new Uint8Array(words.buffer, 0, target.length));
  }

  /** The list in a random order (Fisher–Yates), in place. */
  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  }

  /** `count` distinct integers from [0, n), ascending. Rejection is cheap because count is far below n. */
  distinct(n: number, count: number): number[] {
    if (count > n) throw new RangeError(`cannot pick ${count} distinct values below ${n}`);
    const picked = new Set<number>();
    while (picked.size < count) picked.add(this.below(n));
    return [...picked].sort((a, b) => a - b);
  }
}
