/**
 * `new Date(ms).toISOString()`, remembering the last answer: events and journal entries stamp several times
 * within one millisecond, and formatting a date is a large share of a step's own work.
 */
let lastMs = Number.NaN;
let lastIso = '';
export function isoTime(ms: number = Date.now()): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
