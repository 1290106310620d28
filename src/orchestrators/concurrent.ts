import { z } from 'zod';
import { agentNameSchema } from '../agents/schema.js';
import type { AgentResult, AgentSpec, PriorWork } from '../core/agent.js';
import { AgentFailedError, BudgetExceededError, InvalidRunError, toErrorInfo } from '../core/errors.js';
import type { RunContext, RunResult } from '../core/run-context.js';
import { type Branch, branchDetails, fanOut as fanOutCalls, minSuccessfulOption } from './fan-out.js';
import { agentMessages } from './messages.js';
import { definePattern } from './pattern.js';
import { outputOf, parseJson } from './shared.js';

type Aggregation = { kind: 'merge' } | { kind: 'vote' } | { kind: 'agent'; agent: string };

type Succeeded = Branch;

const aggregatorSchema = z.union([
  z.literal('merge'),
  z.literal('vote'),
  z.object({ agent: agentNameSchema }).strict(),
]);

/** `options.aggregator` wins over the team's; `agent` needs the team to name its aggregator agent. */
function aggregationFor(
  ctx: Pick<RunContext, 'team'>,
  wanted: 'merge' | 'vote' | 'agent' | undefined,
  team: 'merge' | 'vote' | { agent: string },
): Aggregation {
  if (wanted === 'merge' || wanted === 'vote') return { kind: wanted };
  if (typeof team === 'object') return { kind: 'agent', agent: team.agent };
  if (wanted === 'agent') {
    throw new InvalidRunError(
      `Team "${ctx.team.name}" names no aggregator agent for the concurrent pattern.`,
    );
  }
  return { kind: team };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One branch's answer as a value: its structured output, else its text read as JSON, else its text. */
function answerOf(result: AgentResult): unknown {
  if (result.structured !== undefined) return result.structured;
  return parseJson(result.text) ?? result.text;
}

/**
 * Merge: the branches' object answers merged key by key in the team's agent order (later agents win for the
 * same key); an answer that is not an object goes under its agent's name.
 */
export function mergeAnswers(branches: readonly Succeeded[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const { name: agent, result } of branches) {
    const answer = answerOf(result);
    if (isPlainObject(answer)) Object.assign(merged, answer);
    else merged[agent] = answer;
  }
  return merged;
}

/** Text and JSON made comparable: keys sorted, strings trimmed, lower-cased, whitespace collapsed. */
export function normaliseAnswer(value: unknown): unknown {
  if (typeof value === 'string') {
    const json = parseJson(value);
    if (json !== undefined && typeof json !== 'string') return normaliseAnswer(json);
    return value
      .trim()
      .toLowerCase()
      .replace(/\s+/g, ' ')
      .replace(/[.!]+$/, '');
  }
  if (Array.isArray(value)) return value.map(normaliseAnswer);
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, normaliseAnswer(value[k])]),
    );
  }
  return value;
}

export interface Ballot {
  answer: string;
  agents: string[];
}

/**
 * Vote: branches with the same normalised answer form one ballot; the ballot with most agents wins, and a tie
 * goes to the ballot whose first agent comes first in the team's agent order (branches arrive in that order).
 */
export function countVotes(branches: readonly Succeeded[]): Ballot[] {
  const ballots = new Map<string, Ballot>();
  for (const { name: agent, result } of branches) {
    const answer = JSON.stringify(normaliseAnswer(answerOf(result)));
    const ballot = ballots.get(answer) ?? { answer, agents: [] };
    ballot.agents.push(agent);
    ballots.set(answer, ballot);
  }
  // Array.prototype.sort is stable: equal counts keep first-seen order, which is the team's agent order.
  return [...ballots.values()].sort((a, b) => b.agents.length - a.agents.length);
}

/**
 * Concurrent (fan-out/fan-in): every agent of `patterns.concurrent.agents` gets the task at once, at most
 * `options.concurrency` in flight; their answers are combined by the aggregator (`merge`, `vote` or an agent).
 * With a team output schema, the answer that becomes the run's is in it: the aggregator agent is asked for it,
 * each branch is under `vote`, and a merge must fill it.
 * Failed branches leave the run partial; fewer than `options.minSuccessful` successes fail it with
 * `TOO_FEW_BRANCHES`. A spent budget keeps what exists (partial) or fails with `BUDGET_EXCEEDED` when fewer than
 * `minSuccessful` branches finished.
 */
export const concurrent = definePattern({
  name: 'concurrent',
  summary: 'Every agent gets the task at once; their answers are merged, voted on or combined by an agent.',
  wiring: z
    .object({ agents: z.array(agentNameSchema).min(1), aggregator: aggregatorSchema.default('merge') })
    .strict(),
  options: {
    aggregator: z
      .enum(['merge', 'vote', 'agent'])
      .optional()
      .describe('Concurrent: override the team aggregator.'),
    minSuccessful: minSuccessfulOption,
  },
  optionDefaults: { minSuccessful: 1 },
  agentsIn: (wiring) => [
    ...wiring.agents.map((agent, i) => ({ path: ['agents', i], agent })),
    ...(typeof wiring.aggregator === 'object'
      ? [{ path: ['aggregator', 'agent'], agent: wiring.aggregator.agent }]
      : []),
  ],
  describeOptions: (wiring) => {
    const byAgent = typeof wiring.aggregator === 'object';
    return {
      aggregator: byAgent ? 'agent' : wiring.aggregator,
      concurrency: undefined,
      minSuccessful: undefined,
      ...(byAgent ? { context: undefined } : {}),
    };
  },
  async run(ctx) {
    const aggregation = aggregationFor(ctx, ctx.options.aggregator, ctx.wiring.aggregator);
    const agents = ctx.wiring.agents.map((name) => ctx.agent(name));
    if (aggregation.kind === 'agent') ctx.agent(aggregation.agent);
    const required = ctx.options.minSuccessful;
    if (required > agents.length) {
      throw new InvalidRunError(
        `minSuccessful is ${required} but the team has ${agents.length} concurrent agents.`,
      );
    }
    const fanIn = await fanOut(ctx, agents, required, aggregation);
    if (aggregation.kind === 'vote') return byVote(fanIn);
    if (aggregation.kind === 'agent') {
      const combined = await byAgent(ctx, aggregation.agent, fanIn);
      if (combined) return combined;
    }
    return byMerge(ctx, fanIn);
  },
});

/** The branches' answers on their way to the aggregator, with what the run record will say about them. */
interface FanIn {
  succeeded: Succeeded[];
  failedAgents: string[];
  notRun: string[];
  partial: boolean;
  details: Record<string, unknown>;
}

/**
 * Every branch gets the task, at most `options.concurrency` at once. Failed branches are recorded; a spent budget
 * leaves the rest not run; cancellation, deadline and worker shutdown end the run whatever the others did.
 */
async function fanOut(
  ctx: RunContext,
  agents: readonly AgentSpec[],
  required: number,
  aggregation: Aggregation,
): Promise<FanIn> {
  // Under vote one branch's answer becomes the run's: each is asked in the team's output schema when it has one.
  const final =
    aggregation.kind === 'vote' && ctx.team.outputSchema ? { outputSchema: ctx.team.outputSchema } : {};
  const branches = await fanOutCalls(
    ctx,
    agents,
    (agent) => agent.name,
    (agent, index) =>
      ctx.callAgent({
        key: `conc/${index}/agent:${agent.name}`,
        agent: agent.name,
        messages: agentMessages(agent, { task: ctx.input }),
        ...final,
      }),
    required,
  );
  const { succeeded, failed, notRun, budgetError } = branches;
  const details: Record<string, unknown> = {
    aggregator: aggregation.kind === 'agent' ? { agent: aggregation.agent } : aggregation.kind,
    branches: branchDetails(
      agents.map((a) => a.name),
      branches,
    ),
    ...(budgetError ? { stopReason: 'BUDGET_EXCEEDED', notRun } : {}),
  };
  return {
    succeeded,
    failedAgents: failed.map((f) => f.agent),
    notRun,
    partial: failed.length > 0 || notRun.length > 0,
    details,
  };
}

/** The answer most branches gave (see `countVotes`). */
function byVote(fanIn: FanIn): RunResult {
  const { succeeded, details } = fanIn;
  const ballots = countVotes(succeeded);
  const winner = ballots[0]?.agents[0];
  const chosen = succeeded.find((s) => s.name === winner) ?? succeeded[0];
  if (!chosen) throw new InvalidRunError('No branch answered.');
  details.votes = ballots.map((b) => ({ agents: b.agents, count: b.agents.length }));
  details.winner = chosen.name;
  return result(outputOf(chosen.result), fanIn.partial, fanIn.failedAgents, details);
}

/**
 * The aggregator agent combines the branches' answers (in the team's output schema when it has one). When the
 * aggregator fails or the budget is spent, undefined: the branches are merged instead and the run is partial.
 */
async function byAgent(ctx: RunContext, name: string, fanIn: FanIn): Promise<RunResult | undefined> {
  const aggregator = ctx.agent(name);
  const { succeeded, failedAgents, details } = fanIn;
  const prior: PriorWork[] = succeeded.map((s) => ({ agent: s.name, text: s.result.text }));
  const missing = [...failedAgents, ...fanIn.notRun];
  const instruction =
    `Combine the answers of the ${succeeded.length} team members above into one final answer.` +
    (missing.length ? ` ${missing.join(', ')} gave no answer.` : '');
  try {
    const combined = await ctx.callAgent({
      key: `conc/aggregate/agent:${aggregator.name}`,
      agent: aggregator.name,
      // The aggregator sees every branch in full, or summarised / cut short when the run asks for that.
      messages: agentMessages(aggregator, {
        task: ctx.input,
        prior:
          ctx.options.context === 'summary' || ctx.options.context === 'truncate'
            ? await ctx.context(prior)
            : prior,
        instruction,
      }),
      ...(ctx.team.outputSchema ? { outputSchema: ctx.team.outputSchema } : {}),
    });
    return result(outputOf(combined), fanIn.partial, failedAgents, details);
  } catch (err) {
    if (err instanceof AgentFailedError) {
      failedAgents.push(aggregator.name);
      details.aggregatorFailed = toErrorInfo(err);
    } else if (err instanceof BudgetExceededError) {
      details.stopReason = 'BUDGET_EXCEEDED';
    } else throw err;
    details.aggregatedBy = 'merge';
    fanIn.partial = true;
    return undefined;
  }
}

/** The branches' answers merged (see `mergeAnswers`), in the team's output schema when they fill it. */
function byMerge(ctx: RunContext, fanIn: FanIn): RunResult {
  const { partial, failedAgents, details } = fanIn;
  const merged = mergeAnswers(fanIn.succeeded);
  const schema = ctx.team.outputSchema;
  if (!schema)
    return result({ text: JSON.stringify(merged), structured: merged }, partial, failedAgents, details);
  const parsed = schema.check(merged);
  if (parsed.ok) {
    return result(
      { text: JSON.stringify(parsed.value), structured: parsed.value },
      partial,
      failedAgents,
      details,
    );
  }
  if (!partial) {
    // Every branch answered and the merge still misses the team's shape: the engine reports OUTPUT_INVALID.
    return result({ text: JSON.stringify(merged), structured: merged }, partial, failedAgents, details);
  }
  // A degraded run keeps what the branches produced as text when it cannot fill the team's output schema.
  details.outputProblems = parsed.problem;
  return result({ text: JSON.stringify(merged) }, partial, failedAgents, details);
}

function result(
  output: RunResult['output'],
  partial: boolean,
  failedAgents: string[],
  details: Record<string, unknown>,
): RunResult {
  return {
    output,
    ...(partial ? { partial: true } : {}),
    ...(failedAgents.length ? { failedAgents } : {}),
    details,
  };
}
