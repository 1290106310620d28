import { z } from 'zod';
import type { AgentResult } from '../core/agent.js';
import { AgentFailedError, BatonError, BudgetExceededError, toErrorInfo } from '../core/errors.js';
import type { ErrorInfo } from '../core/run.js';
import type { RunContext } from '../core/run-context.js';
import { settleAll } from './shared.js';

/** Fewer branches succeeded than `options.minSuccessful` asks for. */
export class TooFewBranchesError extends BatonError {
  constructor(succeeded: string[], required: number, failed: { agent: string; error: ErrorInfo }[]) {
    super(
      'TOO_FEW_BRANCHES',
      `${succeeded.length} of ${succeeded.length + failed.length} branches succeeded; at least ${required} must.`,
      { succeeded, required, failedAgents: failed.map((f) => f.agent), errors: failed },
    );
  }
}

/** The run option of every fan-out pattern (concurrent, map): how many branches must succeed. */
export const minSuccessfulOption = z
  .number()
  .int()
  .min(1)
  .optional()
  .describe('Concurrent and map: branches that must succeed (default 1).');

export interface Branch {
  /** How the run record names the branch: the agent (concurrent) or the agent and item (map). */
  name: string;
  result: AgentResult;
}

export interface Branches {
  succeeded: Branch[];
  failed: { agent: string; error: ErrorInfo }[];
  /** Branches a spent budget left unstarted. */
  notRun: string[];
  budgetError: BudgetExceededError | undefined;
}

/**
 * Runs one agent call per branch, at most `options.concurrency` at once, and waits for all of them (results
 * reach the journal even when another branch fails). A branch whose agent ultimately fails is recorded; a spent
 * budget leaves the rest not run; cancellation, deadline and worker shutdown end the run whatever the others did.
 * Fewer than `required` successes fail the run (`TOO_FEW_BRANCHES`, or the budget error that caused it).
 */
export async function fanOut<T>(
  ctx: RunContext,
  items: readonly T[],
  nameOf: (item: T, index: number) => string,
  call: (item: T, index: number) => Promise<AgentResult>,
  required: number,
): Promise<Branches> {
  const settled = await settleAll(items, ctx.options.concurrency, call);
  const branches: Branches = { succeeded: [], failed: [], notRun: [], budgetError: undefined };
  let fatal: unknown;
  for (const [index, outcome] of settled.entries()) {
    const name = nameOf(items[index] as T, index);
    if (outcome.status === 'fulfilled') branches.succeeded.push({ name, result: outcome.value });
    else if (outcome.reason instanceof AgentFailedError) {
      branches.failed.push({ agent: name, error: toErrorInfo(outcome.reason) });
    } else if (outcome.reason instanceof BudgetExceededError) {
      branches.budgetError ??= outcome.reason;
      branches.notRun.push(name);
    } else fatal ??= outcome.reason;
  }
  if (fatal !== undefined) throw fatal;
  if (branches.succeeded.length < required) {
    if (branches.budgetError) throw branches.budgetError;
    throw new TooFewBranchesError(
      branches.succeeded.map((s) => s.name),
      required,
      branches.failed,
    );
  }
  return branches;
}

/** What the run record's `details.branches` says about each branch. */
export function branchDetails(names: readonly string[], branches: Branches): Record<string, unknown>[] {
  return names.map((name) => {
    const f = branches.failed.find((x) => x.agent === name);
    if (f) return { agent: name, status: 'failed', error: f.error };
    return { agent: name, status: branches.notRun.includes(name) ? 'not-run' : 'succeeded' };
  });
}
