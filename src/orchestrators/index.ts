import type { Pattern } from '../runs/schema.js';
import { concurrent } from './concurrent.js';
import { handoff } from './handoff.js';
import { magentic } from './magentic.js';
import { sequential } from './sequential.js';
import type { Orchestrator } from './types.js';

/** Every pattern baton can run, by name. */
export const orchestrators: ReadonlyMap<Pattern, Orchestrator> = new Map<Pattern, Orchestrator>(
  [sequential, concurrent, handoff, magentic].map((o) => [o.pattern, o]),
);
