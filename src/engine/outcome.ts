import { BatonError, RunCancelledError, toErrorInfo } from '../core/errors.js';
import type { RunOutcome } from '../core/run.js';
import type { RunResult } from '../core/run-context.js';
import type { RunBudget } from '../policies/budget.js';
import { type RunJournal, stepsFromJournal } from '../runs/journal.js';
import type { TeamDefinition } from '../teams/schema.js';

type Ending = Omit<RunOutcome, 'usage' | 'steps' | 'definitionVersion'>;

/** The outcome of an execution: how it ended, plus what the budget and the journal say it spent and did. */
export function outcomeOf(
  ending: Ending,
  budget: RunBudget,
  journal: RunJournal,
  version: string,
): RunOutcome {
  return {
    ...ending,
    usage: budget.usage(),
    steps: stepsFromJournal(journal.entries()),
    definitionVersion: version,
  };
}

/** A pattern's result as a successful ending; a structured output must be in the team's output schema. */
export function succeeded(team: TeamDefinition, result: RunResult): Ending {
  const structured = result.output.structured;
  if (team.outputSchema && structured !== undefined) {
    const checked = team.outputSchema.check(structured);
    if (!checked.ok) {
      throw new BatonError(
        'OUTPUT_INVALID',
        `The run's output does not match team "${team.name}"'s output schema.`,
        {
          problems: checked.problem,
        },
      );
    }
  }
  return {
    status: 'succeeded',
    output: result.output,
    ...(result.eventOutput ? { eventOutput: result.eventOutput } : {}),
    ...(result.partial ? { partial: true } : {}),
    ...(result.failedAgents?.length ? { failedAgents: result.failedAgents } : {}),
    ...(result.details ? { details: result.details } : {}),
  };
}

/** A baton error ends the run as cancelled or failed; anything else is not the run's to decide (rethrown). */
export function ended(err: BatonError): Ending {
  return { status: err instanceof RunCancelledError ? 'cancelled' : 'failed', error: toErrorInfo(err) };
}
