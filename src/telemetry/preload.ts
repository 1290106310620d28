/**
 * Telemetry preload: `node --import ./dist/src/telemetry/preload.js dist/src/cli.js <role>`.
 *
 * Runs before any app module. When the environment asks for telemetry (see `resolveTelemetryPlan`):
 * registers the import-in-the-middle loader hook (ESM modules such as ioredis, imported by BullMQ's ESM
 * build, can only be patched through it), starts the SDK, and flushes it when the event loop empties.
 * Otherwise it returns at once, loading nothing: no SDK, no loader hook, no output.
 *
 * Service name: `api` → baton-api, `worker` → baton-worker, `dev` → baton; other roles (`run`, `eval`)
 * export nothing unless `OTEL_SERVICE_NAME` is set. `OTEL_SERVICE_NAME` always wins.
 */
import { register } from 'node:module';
import { resolveTelemetryPlan, roleFromArgv, shutdownTelemetry, startTelemetry } from './sdk.js';

/**
 * Registers the loader hook in "only what is hooked" mode: the loader wraps just the modules an
 * instrumentation asked for (ioredis, http…), not every module of the app. Returns a function that
 * waits until the loader has acknowledged the instrumentations' hooks.
 */
async function registerLoaderHook(): Promise<() => Promise<void>> {
  try {
    const iitm = await import('import-in-the-middle');
    const { registerOptions, waitForAllMessagesAcknowledged } = iitm.createAddHookMessageChannel();
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, registerOptions);
    return waitForAllMessagesAcknowledged;
  } catch {
    // Fallback: the hook wraps every ESM module (slower start-up, same behaviour).
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
    return async () => {};
  }
}

const plan = resolveTelemetryPlan(process.env, { role: roleFromArgv() });
if (plan) {
  for (const warning of plan.warnings) process.stderr.write(`baton telemetry: ${warning}\n`);
  const hooksAcknowledged = await registerLoaderHook();
  try {
    await startTelemetry({ plan });
  } catch (error) {
    // Telemetry must never keep baton from starting (e.g. a malformed connection string).
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`baton telemetry: not started (${reason}); continuing without telemetry\n`);
  }
  await hooksAcknowledged();
  // Flush what is buffered when the process ends on its own (commands like `baton run`), then exit:
  // an exporter still retrying an unreachable endpoint would otherwise keep the process alive past
  // the shutdown deadline. Long-running roles call `shutdownTelemetry()` themselves after closing the
  // API and the worker.
  process.once('beforeExit', () => {
    void shutdownTelemetry().then(() => process.exit());
  });
}
