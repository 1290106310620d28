import { AgentFailedError, BudgetExceededError, InvalidRunError } from '../errors.js';
import { agentMessages, type PriorWork, selectContext } from './messages.js';
import type { AgentResult, Orchestrator, RunContext, RunResult } from './types.js';

/**
 * Sequential: the team's agents in order, each given the task and the earlier work (`options.context`).
 * An agent that ultimately fails ends the run with `AGENT_FAILED`, unless the team declares a fallback agent,
 * which then does the failed agent's work. A spent budget ends the run early with the last output, partial.
 */
export const sequential: Orchestrator = {
  pattern: 'sequential',
  async run(ctx: RunContext): Promise<RunResult> {
    const wiring = ctx.team.patterns.sequential;
    if (!wiring)
      throw new InvalidRunError(`Team "${ctx.team.name}" is not wired for the sequential pattern.`);
    const prior: PriorWork[] = [];
    const failedAgents: string[] = [];
    let last: AgentResult | undefined;

    for (const [index, name] of wiring.order.entries()) {
      const agent = ctx.agent(name);
      const parts = { task: ctx.input, prior: selectContext(prior, ctx.options.context) };
      try {
        try {
          last = await ctx.callAgent({
            key: `seq/${index}/agent:${name}`,
            agent: name,
            messages: agentMessages(agent, parts),
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

    if (!last) throw new InvalidRunError(`Team "${ctx.team.name}" has no agents in its sequential order.`);
    return {
      output: { text: last.text, ...(last.structured !== undefined ? { structured: last.structured } : {}) },
      ...(failedAgents.length ? { partial: true, failedAgents } : {}),
    };
  },
};
