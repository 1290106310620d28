import { z } from 'zod';
import { agentNameSchema } from '../agents/schema.js';
import type { AgentResult, PriorWork } from '../core/agent.js';
import { AgentFailedError, BatonError, BudgetExceededError, toErrorInfo } from '../core/errors.js';
import type { RunContext, RunResult } from '../core/run-context.js';
import { type Branches, branchDetails, fanOut, minSuccessfulOption } from './fan-out.js';
import { agentMessages } from './messages.js';
import { definePattern } from './pattern.js';
import { outputOf, parseJson } from './shared.js';

/**
 * Map (a fan-out over items found at run time): a `splitter` agent lists the items, a `worker` agent runs once
 * per item, at most `options.concurrency` at once, and a `reducer` agent (or `merge`) combines the results in the
 * team's output schema. Each item is its own journaled step, so a run that resumes after a crash calls the worker
 * only for the items not done yet. Failed items follow the concurrent pattern's rule: the run is partial, and
 * fewer than `options.minSuccessful` successes fail it (`TOO_FEW_BRANCHES`). `options.maxItems` bounds the fan-out
 * (items beyond it are dropped, partial).
 */

const mapWiring = z
  .object({
    splitter: agentNameSchema,
    worker: agentNameSchema,
    reducer: z.union([z.literal('merge'), z.object({ agent: agentNameSchema }).strict()]).default('merge'),
    /** The field of the splitter's answer that holds the list (default: the answer itself, or its only list). */
    items: z.string().min(1).max(64).optional(),
  })
  .strict();
type Wiring = z.infer<typeof mapWiring>;
type Ctx = RunContext<Wiring, { minSuccessful: number; maxItems: number }>;

export const map = definePattern({
  name: 'map',
  summary:
    'A splitter lists items at run time, a worker runs once per item in parallel, a reducer combines them.',
  wiring: mapWiring,
  options: {
    minSuccessful: minSuccessfulOption,
    maxItems: z
      .number()
      .int()
      .min(1)
      .max(500)
      .optional()
      .describe('Map: items worked on at most (default 50).'),
  },
  optionDefaults: { minSuccessful: 1, maxItems: 50 },
  agentsIn: (wiring) => [
    { path: ['splitter'], agent: wiring.splitter },
    { path: ['worker'], agent: wiring.worker },
    ...(typeof wiring.reducer === 'object'
      ? [{ path: ['reducer', 'agent'], agent: wiring.reducer.agent }]
      : []),
  ],
  describeOptions: () => ({ concurrency: undefined, minSuccessful: undefined, maxItems: undefined }),
  async run(ctx) {
    const { items, dropped } = await split(ctx);
    const branches = await fanOut(
      ctx,
      items,
      (_item, index) => itemName(ctx, index),
      (item, index) => work(ctx, item, index),
      // An empty list is not a failure: the reducer answers for no items.
      Math.min(ctx.options.minSuccessful, items.length),
    );
    const details: Record<string, unknown> = {
      items: items.length,
      ...(dropped ? { droppedItems: dropped } : {}),
      branches: branchDetails(
        items.map((_, i) => itemName(ctx, i)),
        branches,
      ),
      ...(branches.budgetError ? { stopReason: 'BUDGET_EXCEEDED', notRun: branches.notRun } : {}),
    };
    const partial = dropped > 0 || branches.failed.length > 0 || branches.notRun.length > 0;
    const failedAgents = branches.failed.length ? [ctx.wiring.worker] : [];
    return reduce(ctx, items, branches, { partial, failedAgents, details });
  },
});

const itemName = (ctx: Ctx, index: number) => `${ctx.wiring.worker}[${index}]`;

/** The splitter's list: the items of its structured answer (or its text read as JSON), at most `maxItems`. */
async function split(ctx: Ctx): Promise<{ items: unknown[]; dropped: number }> {
  const splitter = ctx.agent(ctx.wiring.splitter);
  const answer = await ctx.callAgent({
    key: `map/split/agent:${splitter.name}`,
    agent: splitter.name,
    messages: agentMessages(splitter, {
      task: ctx.input,
      instruction: 'List the items the task should be worked on for, one entry each.',
    }),
  });
  const items = itemsOf(answer, ctx.wiring.items);
  if (!items) {
    throw new BatonError(
      'MAP_NO_ITEMS',
      `Agent "${splitter.name}" did not answer with a list${ctx.wiring.items ? ` in "${ctx.wiring.items}"` : ''}.`,
      { agent: splitter.name },
    );
  }
  const max = ctx.options.maxItems;
  return { items: items.slice(0, max), dropped: Math.max(0, items.length - max) };
}

function itemsOf(answer: AgentResult, field: string | undefined): unknown[] | undefined {
  const value = answer.structured !== undefined ? answer.structured : parseJson(answer.text);
  if (Array.isArray(value)) return field ? undefined : value;
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (field) return Array.isArray(record[field]) ? (record[field] as unknown[]) : undefined;
  const lists = Object.values(record).filter(Array.isArray);
  return lists.length === 1 ? (lists[0] as unknown[]) : undefined;
}

function work(ctx: Ctx, item: unknown, index: number): Promise<AgentResult> {
  const worker = ctx.agent(ctx.wiring.worker);
  const rendered = typeof item === 'string' ? item : JSON.stringify(item);
  return ctx.callAgent({
    key: `map/item:${index}/agent:${worker.name}`,
    agent: worker.name,
    messages: agentMessages(worker, {
      task: ctx.input,
      instruction: `Work on this item only: ${rendered}`,
    }),
  });
}

interface Reduction {
  partial: boolean;
  failedAgents: string[];
  details: Record<string, unknown>;
}

/** The reducer agent combines the results (in the team's schema when it has one); without it they are merged. */
async function reduce(ctx: Ctx, items: unknown[], branches: Branches, r: Reduction): Promise<RunResult> {
  const reducer = ctx.wiring.reducer;
  if (typeof reducer === 'object') {
    const agent = ctx.agent(reducer.agent);
    const prior: PriorWork[] = branches.succeeded.map((b) => ({ agent: b.name, text: b.result.text }));
    try {
      const combined = await ctx.callAgent({
        key: `map/reduce/agent:${agent.name}`,
        agent: agent.name,
        messages: agentMessages(agent, {
          task: ctx.input,
          prior: await ctx.context(prior),
          instruction: `Combine the results for the ${items.length} items above into one final answer.`,
        }),
        ...(ctx.team.outputSchema ? { outputSchema: ctx.team.outputSchema } : {}),
      });
      return result(outputOf(combined), r);
    } catch (err) {
      if (err instanceof AgentFailedError) {
        r.failedAgents.push(agent.name);
        r.details.reducerFailed = toErrorInfo(err);
      } else if (err instanceof BudgetExceededError) {
        r.details.stopReason = 'BUDGET_EXCEEDED';
      } else throw err;
      r.details.reducedBy = 'merge';
      r.partial = true;
    }
  }
  const indexOf = new Map(items.map((_, i) => [itemName(ctx, i), i]));
  const merged = {
    results: branches.succeeded.map((b) => ({
      item: items[indexOf.get(b.name) ?? -1],
      result: b.result.structured !== undefined ? b.result.structured : b.result.text,
    })),
  };
  const checked = ctx.team.outputSchema?.check(merged);
  if (checked && !checked.ok) {
    // Merged results rarely fit a team's own shape: the run keeps them as text (a reducer agent fits them).
    r.details.outputProblems = checked.problem;
    r.partial = true;
    return result({ text: JSON.stringify(merged) }, r);
  }
  return result({ text: JSON.stringify(merged), structured: merged }, r);
}

function result(output: RunResult['output'], r: Reduction): RunResult {
  return {
    output,
    ...(r.partial ? { partial: true } : {}),
    ...(r.failedAgents.length ? { failedAgents: r.failedAgents } : {}),
    details: r.details,
  };
}
