/**
 * `new Date(ms).toISOString()`, remembering the last answer: events and journal entries stamp several times
 * within one millisecond, and formatting a date is a large share of a step's own work.
 */
/**
 * Milliseconds since `started` (a `performance.now()` reading), to the microsecond: durations are journaled and
 * sent in events, and the timer's further digits are noise that every finished run would keep.
 */
export function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

let lastMs = Number.NaN;
let lastIso = '';
export function isoTime(ms: number = Date.now()): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
