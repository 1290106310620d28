import type { Logger } from 'pino';
import type { AgentRuntime } from '../agents/runtime.js';
import type { EngineHooks } from '../core/hooks.js';
import type { InputPort } from '../core/ports.js';
import type { Guardrails } from '../guardrails/index.js';
import type { RegisteredPattern } from '../orchestrators/pattern.js';
import type { EventSink } from '../runs/events.js';
import type { RunJournal } from '../runs/journal.js';
import type { RunRequest } from '../runs/schema.js';
import type { TeamResolver } from '../teams/resolver.js';
import type { ToolRuntime } from '../tools/runtime.js';

export interface EngineDeps {
  runtime: AgentRuntime;
  /** Finds a run's team by name and version (the version the run recorded when it was created). */
  teams: TeamResolver;
  orchestrators: ReadonlyMap<string, RegisteredPattern>;
  log: Logger;
  /** Put agent text on `agent.completed` events (BATON_CAPTURE_CONTENT). */
  captureContent?: boolean;
  now?: () => number;
  /** Spans, metrics and log context around runs and steps (src/telemetry/). */
  hooks?: EngineHooks;
  /** The worker's tools (src/tools/); without them agents' tools are not offered. */
  tools?: ToolRuntime;
  /** Tool calls of one model turn that run at once (BATON_TOOL_CONCURRENCY). Default 4. */
  toolConcurrency?: number;
  /** The operator's guardrail defaults and Content Safety client; teams' own guardrails work without it. */
  guardrails?: Guardrails;
}

export interface ExecuteInput {
  runId: string;
  request: RunRequest;
  /** 1 on the first execution; more after a crash, a retried job or a hand-over. */
  attempt: number;
  journal: RunJournal;
  events: EventSink;
  /** Aborts in-flight model calls: cancellation (reason `RunCancelledError`). */
  signal?: AbortSignal;
  /** Stops the run at the next step boundary without aborting the call in flight (worker shutdown). */
  drain?: AbortSignal;
  /** Closes expired human-input requests atomically with answers (in a worker: the run lifecycle). */
  inputs?: InputPort;
  /** When the run first started (ms since epoch): the deadline counts from here across attempts. */
  firstStartedAt?: number;
}
