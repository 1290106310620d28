import { expect } from 'vitest';
import { RunCancelledError } from '../../src/core/errors.js';
import type { RunEvent } from '../../src/core/events.js';
import type { ChatRequest } from '../../src/core/model.js';
import type { SimulatedFault } from '../../src/models/simulated.js';
import type { RunJournal } from '../../src/runs/journal.js';
import { shippedTeams } from '../../src/teams/files.js';
import {
  type TeamDefinition,
  type TeamDefinitionInput,
  teamDefinitionSchema,
} from '../../src/teams/schema.js';

const catalog = shippedTeams();

/** Shared fixtures for the pattern tests. */

export function catalogTeam(name: string): TeamDefinition {
  const team = catalog.get(name);
  if (!team) throw new Error(`no team ${name}`);
  return team;
}

/**
 * A copy of a catalog team with test-sized policies: one attempt per call, a short timeout and a breaker that
 * opens after `failureThreshold` failures and stays open for the rest of the test.
 */
export function testTeam(
  name: string,
  options: {
    timeoutMs?: number;
    failureThreshold?: number;
    change?: (team: TeamDefinitionInput) => TeamDefinitionInput;
  } = {},
): TeamDefinition {
  const base = catalogTeam(name);
  const input: TeamDefinitionInput = {
    ...base,
    agents: base.agents.map((a) => ({
      ...a,
      policy: {
        timeoutMs: options.timeoutMs ?? 60,
        retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 },
        breaker: { failureThreshold: options.failureThreshold ?? 5, halfOpenAfterMs: 600_000 },
      },
    })),
  };
  return teamDefinitionSchema.parse(options.change ? options.change(input) : input);
}

export function teams(...list: TeamDefinition[]): ReadonlyMap<string, TeamDefinition> {
  return new Map(list.map((t) => [t.name, t]));
}

/** Faults: every request of the named agents hangs (until the agent's timeout aborts it). */
export function hang(...agents: string[]): (request: ChatRequest) => SimulatedFault | undefined {
  return (request) => (agents.includes(request.agent) ? 'hang' : undefined);
}

/** Events without streamed deltas, as `type(agent)` / `handoff(a>b)` strings. */
export function trace(events: readonly RunEvent[]): string[] {
  return events.flatMap((e) => {
    if (e.type === 'agent.delta') return [];
    if (e.type === 'handoff') return [`handoff(${e.from}>${e.to})`];
    if ('agent' in e) return [`${e.type}(${e.agent})`];
    return [e.type];
  });
}

/** Event types other than the agent lifecycle: the pattern's own events and budget/run events. */
export function patternEvents(events: readonly RunEvent[]): string[] {
  return events.filter((e) => !e.type.startsWith('agent.')).map((e) => e.type);
}

/** The journal keys of agent calls that really reached the runtime (replayed steps emit no agent.started). */
export function startedKeys(events: readonly RunEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'agent.started' ? [e.step] : []));
}

export function agentsRequested(requests: readonly ChatRequest[]): string[] {
  return requests.map((r) => r.agent);
}

/**
 * Asserts no journal key was sent to the model twice across attempts and that together they did `expected`.
 * `attempts` lists, per attempt, the keys it sent (an interrupted attempt: the journal keys it left behind).
 */
export function expectEachKeyOnce(
  attempts: readonly (readonly string[])[],
  expected: readonly string[],
): void {
  const keys = attempts.flat();
  expect(new Set(keys).size).toBe(keys.length);
  expect([...keys].sort()).toEqual([...expected].sort());
}

/** Journal keys of agent calls (not of pattern steps). */
export function agentKeys(journal: RunJournal): string[] {
  return journal.entries().flatMap(([key, entry]) => (entry.kind === 'agent' ? [key] : []));
}

/** A cancel controller whose abort reason is `RunCancelledError`, as the worker does it. */
export function cancelController(): { controller: AbortController; cancel: () => void } {
  const controller = new AbortController();
  return { controller, cancel: () => controller.abort(new RunCancelledError()) };
}

export const businessArticle = `Contoso Motors raises guidance after record quarter

Contoso Motors reported record quarterly profit on Tuesday and raised its full-year guidance, sending shares higher in early trading. Analysts said strong orders for its electric vans beat expectations. Meanwhile, supplier Fabrikam Industries warned of a revenue shortfall after a recall of faulty battery packs, and its shares fell. Investors expect the market to watch both companies closely next quarter.`;

export const sportsArticle = `Harbour City wins the cup after extra time

Harbour City won the national cup on Sunday after a dramatic extra-time goal from their captain. Thousands of fans filled the old town square to celebrate, and the team will parade through the city on Monday.`;
