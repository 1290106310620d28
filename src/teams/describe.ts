import { commonRunOptionDefaults } from '../core/run-options.js';
import { type PatternName, registeredPatterns } from '../orchestrators/index.js';
import type { TeamDefinition } from './schema.js';

/** What `GET /v1/teams` says about a team: its agents and, per pattern it is wired for, the options that apply. */
export interface TeamDescription {
  name: string;
  description: string;
  agents: { name: string; description: string }[];
  /** The team's variants (`options.variant`), besides `base`. */
  variants: string[];
  patterns: {
    pattern: PatternName;
    /** The team's wiring for the pattern (order, agents and aggregator, entry and fallback, manager...). */
    wiring: unknown;
    /** Run options that change this pattern's behaviour, with their defaults for this team (null: unset). */
    options: Record<string, unknown>;
  }[];
}

/** Options every pattern honours (budgets, deadline, model, seed, streaming); null: unset. */
const everyPattern = {
  deadlineMs: null,
  maxTokens: null,
  maxModelCalls: null,
  model: null,
  variant: null,
  seed: commonRunOptionDefaults.seed,
  stream: commonRunOptionDefaults.stream,
} as const;

export function describeTeam(team: TeamDefinition): TeamDescription {
  return {
    name: team.name,
    description: team.description,
    agents: team.agents.map((a) => ({ name: a.name, description: a.description })),
    variants: Object.keys(team.variants ?? {}),
    patterns: registeredPatterns.flatMap((pattern) => {
      const wiring = team.patterns[pattern.name];
      if (wiring === undefined) return [];
      const defaults: Record<string, unknown> = { ...commonRunOptionDefaults, ...pattern.optionDefaults };
      const options = Object.fromEntries(
        Object.entries(pattern.describeOptions(wiring)).map(([name, value]) => [
          name,
          value ?? defaults[name] ?? null,
        ]),
      );
      return [{ pattern: pattern.name, wiring, options: { ...options, ...everyPattern } }];
    }),
  };
}
