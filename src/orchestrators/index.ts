import { concurrent } from './concurrent.js';
import { groupChat } from './group-chat.js';
import { handoff } from './handoff.js';
import { magentic } from './magentic.js';
import { map } from './map.js';
import type { RegisteredPattern } from './pattern.js';
import { sequential } from './sequential.js';

/**
 * Every pattern baton can run. The run request's `pattern` enum, the team schema's `patterns` section, the run
 * options and `GET /v1/teams` are all derived from this list: a new pattern is one module plus one entry here.
 */
export const registeredPatterns = [sequential, concurrent, handoff, magentic, groupChat, map] as const;

export type PatternName = (typeof registeredPatterns)[number]['name'];

export const patternNames = registeredPatterns.map((p) => p.name) as [PatternName, ...PatternName[]];

export const orchestrators: ReadonlyMap<string, RegisteredPattern> = new Map(
  registeredPatterns.map((p) => [p.name, p]),
);
