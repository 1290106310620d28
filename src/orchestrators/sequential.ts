import { z } from 'zod';
import { agentNameSchema } from '../agents/schema.js';
import type { AgentResult, PriorWork } from '../core/agent.js';
import { AgentFailedError, BudgetExceededError } from '../core/errors.js';
import { agentMessages } from './messages.js';
import { definePattern } from './pattern.js';

/**
 * Sequential: the team's agents in order, each given the task and the earlier work (`options.context`). The last
 * one gives the final answer: when the team declares an output schema, it is asked for that schema (its own
 * definition may have none). An agent that ultimately fails ends the run with `AGENT_FAILED`, unless the team declares a fallback agent,
 * which then does the failed agent's work. A spent budget ends the run early with the last output, partial.
 */
export const sequential = definePattern({
  name: 'sequential',
  summary: 'The agents in order, each given the task and the earlier work; a fallback agent can stand in.',
  wiring: z.object({ order: z.array(agentNameSchema).min(1), fallback: agentNameSchema.optional() }).strict(),
  options: {},
  optionDefaults: {},
  agentsIn: (wiring) => [
    ...wiring.order.map((agent, i) => ({ path: ['order', i], agent })),
    ...(wiring.fallback ? [{ path: ['fallback'], agent: wiring.fallback }] : []),
  ],
  describeOptions: () => ({ context: undefined }),
  async run(ctx) {
    const wiring = ctx.wiring;
    const prior: PriorWork[] = [];
    const failedAgents: string[] = [];
    let last: AgentResult | undefined;

    for (const [index, name] of wiring.order.entries()) {
      const agent = ctx.agent(name);
      const parts = { task: ctx.input, prior: await ctx.context(prior) };
      const isFinal = index === wiring.order.length - 1 && ctx.team.outputSchema !== undefined;
      const final = isFinal ? { outputSchema: ctx.team.outputSchema } : {};
      try {
        try {
          last = await ctx.callAgent({
            key: `seq/${index}/agent:${name}`,
            agent: name,
            messages: agentMessages(agent, parts),
            ...final,
          });
        } catch (err) {
          if (!(err instanceof AgentFailedError) || !wiring.fallback) throw err;
          failedAgents.push(name);
          ctx.log.warn(
            { agent: name, fallback: wiring.fallback },
            'agent failed; its work goes to the fallback agent',
          );
          const fallback = ctx.agent(wiring.fallback);
          last = await ctx.callAgent({
            key: `seq/${index}/fallback:${fallback.name}`,
            agent: fallback.name,
            messages: agentMessages(fallback, {
              ...parts,
              instruction: `Do the work of "${name}" (${agent.description}), which is unavailable.`,
            }),
            ...final,
          });
        }
      } catch (err) {
        if (err instanceof BudgetExceededError && last) {
          return {
            output: { text: last.text },
            partial: true,
            details: { stoppedBefore: name, reason: 'BUDGET_EXCEEDED' },
            ...(failedAgents.length ? { failedAgents } : {}),
          };
        }
        throw err;
      }
      prior.push({ agent: name, text: last.text });
    }

    // The wiring schema requires at least one agent in the order.
    const final = last as AgentResult;
    return {
      output: {
        text: final.text,
        ...(final.structured !== undefined ? { structured: final.structured } : {}),
      },
      ...(failedAgents.length ? { partial: true, failedAgents } : {}),
    };
  },
});
