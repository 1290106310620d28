/**
 * Process-wide telemetry state: what the bootstrap started. Kept on `globalThis` under a registered
 * symbol so that two copies of this module (the preload compiled to `dist/` and the same file loaded
 * again through another loader) still agree. Holds no SDK objects that the app would need to import.
 */

export interface TelemetrySignals {
  traces: boolean;
  metrics: boolean;
  logs: boolean;
}

export interface TelemetryState {
  /** Whether `startTelemetry` started an SDK in this process. */
  started: boolean;
  serviceName: string | undefined;
  signals: TelemetrySignals;
  /** The @fastify/otel instrumentation, when tracing is on (typed loosely: only sdk.ts knows it). */
  fastify: unknown;
  /** Stops the SDK; set by `startTelemetry`. */
  shutdown: (() => Promise<void>) | undefined;
}

const key = Symbol.for('baton.telemetry.state');

type Holder = { [key]?: TelemetryState };

function initial(): TelemetryState {
  return {
    started: false,
    serviceName: undefined,
    signals: { traces: false, metrics: false, logs: false },
    fastify: undefined,
    shutdown: undefined,
  };
}

/** The live state object (created on first use). */
export function telemetryState(): TelemetryState {
  const holder = globalThis as Holder;
  holder[key] ??= initial();
  return holder[key];
}

/** Forgets everything (tests and `shutdownTelemetry`). */
export function resetTelemetryState(): void {
  (globalThis as Holder)[key] = initial();
}
