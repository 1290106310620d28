import { patterns as allPatterns, type Pattern, runOptionDefaults } from '../../runs/schema.js';
import type { TeamDefinition } from '../schema.js';

/** What `GET /v1/teams` says about a team: its agents and, per pattern it is wired for, the options that apply. */
export interface TeamDescription {
  name: string;
  description: string;
  agents: { name: string; description: string }[];
  patterns: {
    pattern: Pattern;
    /** The team's wiring for the pattern (order, agents and aggregator, entry and fallback, manager...). */
    wiring: unknown;
    /** Run options that change this pattern's behaviour, with their defaults for this team (null: unset). */
    options: Record<string, unknown>;
  }[];
}

/** Options every pattern honours (budgets, deadline, model, seed, streaming). */
const common = {
  deadlineMs: null,
  maxTokens: null,
  maxModelCalls: null,
  model: null,
  seed: runOptionDefaults.seed,
  stream: runOptionDefaults.stream,
} as const;

function patternOptions(team: TeamDefinition, pattern: Pattern): Record<string, unknown> | undefined {
  const p = team.patterns;
  switch (pattern) {
    case 'sequential':
      return p.sequential ? { context: runOptionDefaults.context, ...common } : undefined;
    case 'concurrent': {
      if (!p.concurrent) return undefined;
      const agg = p.concurrent.aggregator;
      return {
        aggregator: typeof agg === 'object' ? 'agent' : agg,
        concurrency: runOptionDefaults.concurrency,
        minSuccessful: runOptionDefaults.minSuccessful,
        ...(typeof agg === 'object' ? { context: runOptionDefaults.context } : {}),
        ...common,
      };
    }
    case 'handoff':
      return p.handoff
        ? {
            entryAgent: p.handoff.entry,
            maxHandoffs: runOptionDefaults.maxHandoffs,
            context: runOptionDefaults.context,
            ...common,
          }
        : undefined;
    case 'magentic':
      return p.magentic
        ? {
            maxRounds: runOptionDefaults.maxRounds,
            maxStalls: runOptionDefaults.maxStalls,
            maxResets: runOptionDefaults.maxResets,
            context: runOptionDefaults.context,
            ...common,
          }
        : undefined;
  }
}

export function describeTeam(team: TeamDefinition): TeamDescription {
  return {
    name: team.name,
    description: team.description,
    agents: team.agents.map((a) => ({ name: a.name, description: a.description })),
    patterns: allPatterns.flatMap((pattern) => {
      const options = patternOptions(team, pattern);
      return options ? [{ pattern, wiring: team.patterns[pattern], options }] : [];
    }),
  };
}
