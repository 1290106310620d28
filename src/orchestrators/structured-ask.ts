import type { z } from 'zod';
import type { AgentSpec, PriorWork } from '../core/agent.js';
import { AgentFailedError } from '../core/errors.js';
import { zodOutputSchema } from '../core/output-schema.js';
import type { RunContext } from '../core/run-context.js';
import { agentMessages } from './messages.js';
import { causeOf } from './shared.js';

/** Retries of a structured answer that fails schema validation, each under its own journal key. */
export const STRUCTURED_RETRIES = 2;

export interface RejectedAnswer {
  key: string;
  problem: string;
  raw: string;
}

/**
 * Asks `agent` for an answer in `schema` (a manager's ledger, a speaker choice, a review). An answer that fails
 * validation is asked again, up to `STRUCTURED_RETRIES` times, each under `<key>/retry:<n>` with the problem
 * quoted; the rejected answers are journaled (a replayed failure carries no details). When every try fails,
 * `giveUp(rejected)` supplies the error the run fails with.
 */
export async function askStructured<T>(
  ctx: RunContext,
  agent: AgentSpec,
  request: {
    key: string;
    /** What the answer is, in the re-ask: "ledger", "choice", "review". */
    what: string;
    schema: z.ZodType;
    prior: PriorWork[];
    instruction: string;
  },
  giveUp: (rejected: RejectedAnswer[]) => Error,
): Promise<T> {
  const rejected: RejectedAnswer[] = [];
  for (let attempt = 0; attempt <= STRUCTURED_RETRIES; attempt++) {
    const key = attempt === 0 ? request.key : `${request.key}/retry:${attempt}`;
    const last = rejected[rejected.length - 1];
    const instruction = last
      ? `${request.instruction}\n\nYour previous ${request.what} was rejected: ${last.problem}\nAnswer again with JSON in the required schema.`
      : request.instruction;
    try {
      const result = await ctx.callAgent({
        key,
        agent: agent.name,
        messages: agentMessages(agent, { task: ctx.input, prior: request.prior, instruction }),
        outputSchema: zodOutputSchema(request.schema),
      });
      return result.structured as T;
    } catch (err) {
      if (!(err instanceof AgentFailedError) || causeOf(err).code !== 'MODEL_OUTPUT_INVALID') throw err;
      const why = await ctx.step(`${key}/rejected`, async () => {
        const cause = causeOf(err);
        return {
          problem: cause.message,
          raw: typeof cause.details?.raw === 'string' ? cause.details.raw : '',
        };
      });
      ctx.log.warn({ key, problem: why.problem }, 'structured answer rejected');
      rejected.push({ key, ...why });
    }
  }
  throw giveUp(rejected);
}
