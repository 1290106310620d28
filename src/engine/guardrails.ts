import { z } from 'zod';
import { InvalidRunError } from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import { zodOutputSchema } from '../core/output-schema.js';
import type { RunResult } from '../core/run-context.js';
import { Guardrails, type Judge, type RunGuardrails } from '../guardrails/index.js';
import { renderTask } from '../orchestrators/messages.js';
import { RunBudget } from '../policies/budget.js';
import type { RunRequest } from '../runs/schema.js';
import type { TeamDefinition } from '../teams/schema.js';
import type { EngineDeps } from './deps.js';

const verdictSchema = zodOutputSchema(
  z.object({
    compliant: z.boolean().describe('True when the answer keeps the policy.'),
    reason: z.string().describe('One sentence: why.'),
  }),
);

/** The guardrails of one execution: the team's declaration over the operator's defaults; none when all are off. */
export function guardrailsForRun(
  deps: EngineDeps,
  team: TeamDefinition,
  request: RunRequest,
  run: { seed: number; emit: (event: RunEventInput) => Promise<void> },
): RunGuardrails | undefined {
  const judge = judgeOf(deps, team, run.seed);
  return (deps.guardrails ?? new Guardrails()).forRun(
    team.guardrails,
    renderTask(request.input),
    run.emit,
    judge,
  );
}

/**
 * The team's judge: its judge agent through the agent runtime, under a budget of its own (`maxCalls` model calls
 * per execution), apart from the run's. Its verdicts are not journaled: the answer they let through is.
 */
function judgeOf(deps: EngineDeps, team: TeamDefinition, seed: number): Judge | undefined {
  const config = team.guardrails?.output?.judge;
  if (!config) return undefined;
  const agent = team.agents.find((a) => a.name === config.agent);
  if (!agent) throw new InvalidRunError(`Team "${team.name}" has no judge agent "${config.agent}".`);
  const budget = new RunBudget(undefined, config.maxCalls);
  return async (ask) => {
    const settled = await deps.runtime.invoke({
      agent,
      call: {
        key: `${ask.step}/judge`,
        agent: agent.name,
        messages: [
          { role: 'system', content: agent.instructions },
          {
            role: 'user',
            content: `Policy:\n${ask.policy}\n\nAnswer of agent "${ask.agent}":\n<answer>\n${ask.answer}\n</answer>\n\nDoes the answer keep the policy?`,
          },
        ],
        outputSchema: verdictSchema,
      },
      seed,
      signal: ask.signal,
      budget,
    });
    if (!settled.ok) throw settled.error;
    return settled.result.structured as { compliant: boolean; reason: string };
  };
}

/**
 * The pattern's result with the PII placeholders put back for the client (the run record's output), while the
 * `run.completed` event keeps the placeholders (`eventOutput`): events are read by more than the client.
 */
export function restoredResult(guardrails: RunGuardrails | undefined, result: RunResult): RunResult {
  if (!guardrails) return result;
  const output = guardrails.restoreOutput(result.output);
  const same =
    output.text === result.output.text &&
    JSON.stringify(output.structured) === JSON.stringify(result.output.structured);
  if (same) return result;
  return { ...result, output, eventOutput: result.output };
}
