/**
 * The port through which policies coordinate the worker fleet: Lua scripts run atomically on the shared Redis.
 * Policies sit below the layers that hold Redis connections, so the composition root implements this port (with
 * ioredis) and passes it in. Every call is time-bounded by the implementation: a slow or unreachable Redis makes
 * `run` reject quickly, and the policies then fall back to their per-process limits.
 */
export interface LuaScript {
  /** For logs and metrics. */
  readonly name: string;
  readonly source: string;
}

export interface Coordination {
  /** The key prefix of this deployment of baton (every coordination key starts with it). */
  readonly prefix: string;
  /** Runs `script` atomically; rejects when Redis does not answer within the implementation's time bound. */
  run(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
}

/** Reports a coordination failure once per outage, and the recovery (logs, metrics). */
export interface CoordinationEvents {
  degraded(what: string, err: unknown): void;
  recovered(what: string): void;
}

export const silentCoordinationEvents: CoordinationEvents = { degraded: () => {}, recovered: () => {} };

/** Tracks whether a coordination feature currently runs on its local fallback, reporting each change once. */
export class DegradationTracker {
  private degradedNow = false;

  constructor(
    private readonly what: string,
    private readonly events: CoordinationEvents,
  ) {}

  get degraded(): boolean {
    return this.degradedNow;
  }

  failed(err: unknown): void {
    if (this.degradedNow) return;
    this.degradedNow = true;
    this.events.degraded(this.what, err);
  }

  succeeded(): void {
    if (!this.degradedNow) return;
    this.degradedNow = false;
    this.events.recovered(this.what);
  }
}
