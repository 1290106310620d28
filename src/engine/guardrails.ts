import type { RunEventInput } from '../core/events.js';
import type { RunResult } from '../core/run-context.js';
import { Guardrails, type RunGuardrails } from '../guardrails/index.js';
import { renderTask } from '../orchestrators/messages.js';
import type { RunRequest } from '../runs/schema.js';
import type { TeamDefinition } from '../teams/schema.js';
import type { EngineDeps } from './deps.js';

/** The guardrails of one execution: the team's declaration over the operator's defaults; none when all are off. */
export function guardrailsForRun(
  deps: EngineDeps,
  team: TeamDefinition,
  request: RunRequest,
  emit: (event: RunEventInput) => Promise<void>,
): RunGuardrails | undefined {
  return (deps.guardrails ?? new Guardrails()).forRun(team.guardrails, renderTask(request.input), emit);
}

/**
 * The pattern's result with the PII placeholders put back for the client (the run record's output), while the
 * `run.completed` event keeps the placeholders (`eventOutput`): events are read by more than the client.
 */
export function restoredResult(guardrails: RunGuardrails | undefined, result: RunResult): RunResult {
  if (!guardrails) return result;
  const output = guardrails.restoreOutput(result.output);
  if (output.text === result.output.text && output.structured === result.output.structured) return result;
  return { ...result, output, eventOutput: result.output };
}
