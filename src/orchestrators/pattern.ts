import type { z } from 'zod';
import type { RunContext, RunResult } from '../core/run-context.js';
import type { Resolved } from '../core/run-options.js';

/** A place in a pattern's wiring that names an agent (checked against the team's agents when a team loads). */
export interface AgentReference {
  /** Path inside the wiring, e.g. `['order', 2]`. */
  path: (string | number)[];
  agent: string;
}

/**
 * One orchestration pattern: its name, the schema of its part of a team document (`patterns.<name>`), the run
 * options it adds, and `run(ctx)`. The registry (./index.ts) derives the `pattern` enum, the team schema and the
 * `/v1/teams` description from these, so adding a pattern is adding one module and registering it.
 */
export interface PatternDefinition<
  Name extends string,
  Wiring extends z.ZodType,
  Options extends z.ZodRawShape,
  Defaults extends Partial<z.infer<z.ZodObject<Options>>>,
> {
  readonly name: Name;
  /** One sentence: what the pattern does (docs, `/v1/teams`). */
  readonly summary: string;
  readonly wiring: Wiring;
  /** This pattern's run options (every field optional in a request). */
  readonly options: Options;
  readonly optionDefaults: Defaults;
  /** The agents the wiring names, so a team that names an unknown agent is refused when it loads. */
  agentsIn(wiring: z.infer<Wiring>): AgentReference[];
  /**
   * The run options that change this pattern's behaviour for a team wired this way, each with the value the wiring
   * gives it, or `undefined` for the option's own default. Options every pattern honours are added by the registry.
   */
  describeOptions(wiring: z.infer<Wiring>): Record<string, unknown>;
  run(
    ctx: RunContext<z.infer<Wiring>, Resolved<z.infer<z.ZodObject<Options>>, Defaults>>,
  ): Promise<RunResult>;
}

/** A pattern with its types erased, as the registry and the engine hold it. */
export interface RegisteredPattern {
  readonly name: string;
  readonly summary: string;
  readonly wiring: z.ZodType;
  readonly options: z.ZodRawShape;
  readonly optionDefaults: Record<string, unknown>;
  agentsIn(wiring: unknown): AgentReference[];
  describeOptions(wiring: unknown): Record<string, unknown>;
  run(ctx: RunContext<unknown, Record<string, unknown>>): Promise<RunResult>;
}

/**
 * Declares a pattern. The typed definition is checked here; the registry keeps the erased form, and the engine
 * hands `run` the wiring its schema validated when the team loaded.
 */
export function definePattern<
  const Name extends string,
  Wiring extends z.ZodType,
  Options extends z.ZodRawShape,
  Defaults extends Partial<z.infer<z.ZodObject<Options>>>,
>(
  pattern: PatternDefinition<Name, Wiring, Options, Defaults>,
): PatternDefinition<Name, Wiring, Options, Defaults> & RegisteredPattern {
  // The erased methods take `unknown`; their callers pass what this pattern's own schemas produced.
  return pattern as PatternDefinition<Name, Wiring, Options, Defaults> & RegisteredPattern;
}
