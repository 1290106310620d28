import { ApiError } from './errors.js';

/**
 * Caps concurrent event streams (SSE) in this API process: `max` in all and `perKey` per caller. A stream holds
 * a slot from its start to its close; over either cap the request is refused with 429 before the stream opens.
 */
export class StreamSlots {
  private total = 0;
  private readonly byKey = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly perKey: number,
  ) {}

  /** Takes a slot for `keyId`; returns its release (safe to call twice). */
  acquire(keyId: string): () => void {
    const mine = this.byKey.get(keyId) ?? 0;
    if (mine >= this.perKey) {
      throw new ApiError(
        429,
        'TOO_MANY_STREAMS',
        `This caller already follows ${mine} event streams, the most it may at once; close one first.`,
        { retryAfterSeconds: 5 },
      );
    }
    if (this.total >= this.max) {
      throw new ApiError(429, 'TOO_MANY_STREAMS', 'The API is serving as many event streams as it can.', {
        retryAfterSeconds: 5,
      });
    }
    this.total += 1;
    this.byKey.set(keyId, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.byKey.get(keyId) ?? 1) - 1;
      if (left > 0) this.byKey.set(keyId, left);
      else this.byKey.delete(keyId);
    };
  }

  get open(): number {
    return this.total;
  }
}
