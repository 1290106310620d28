import type { Logger } from 'pino';
import { RefusedError } from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import { compileJsonSchema } from '../core/output-schema.js';
import type { InputPort, RunQueue } from '../core/ports.js';
import type { HumanAnswer, PendingInput } from '../core/run.js';
import { expiredAnswer } from '../engine/human-input.js';
import type { InputAnswer, RunRequest } from '../runs/schema.js';
import type { StoredRun } from '../runs/store.js';
import { resolveRunTeam, type TeamResolver } from '../teams/resolver.js';
import type { RunWrites, Waited } from './run-writes.js';
import type { RunWebhooks } from './webhooks.js';

export interface InputDeps {
  /** Finds a run's team at the version it executes (to check edited tool arguments against the tool's schema). */
  teams: TeamResolver;
  writes: RunWrites;
  queue: RunQueue<RunRequest>;
  webhooks: RunWebhooks;
  log: Logger;
}

/** Who answers: the API key id (never the key). */
export interface Answerer {
  keyId: string;
}

/**
 * The human-input part of the run lifecycle: a run stops for input (`waiting`, its requests pending), a person
 * answers (journaled once, with who and when, and the run's job woken), or a request expires with the default
 * decision. The answer and the expiry close a request in one Redis script, so whichever comes first wins.
 */
export class RunInputs implements InputPort {
  constructor(private readonly deps: InputDeps) {}

  /** Attempt `attempt` of the run stopped for `requests`; the run's webhook hears of the new ones. */
  async wait(runId: string, attempt: number, requests: readonly PendingInput[]): Promise<Waited> {
    const { waited, added } = await this.deps.writes.waitForInput(runId, attempt, requests);
    for (const request of requests.filter((r) => added.includes(r.id))) {
      await this.deps.webhooks.notify(runId, { type: 'input.requested', request });
    }
    return waited;
  }

  /**
   * After the job was put aside: an answer that came between the wait and that (its wake-up found the job still
   * held) wakes it now.
   */
  async wakeIfAnswered(runId: string): Promise<void> {
    if ((await this.deps.writes.status(runId)) === 'queued') await this.deps.queue.wake(runId);
  }

  /**
   * A person's answer to a pending request: refused (409) when the run has finished or the request is not
   * pending (answered, expired, or unknown), and (400) when the answer does not fit the request's kind.
   */
  async answer(run: StoredRun, body: InputAnswer, by: Answerer): Promise<HumanAnswer> {
    const runId = run.record.id;
    if (['succeeded', 'failed', 'cancelled'].includes(run.record.status)) {
      throw new RefusedError(
        'conflict',
        'RUN_FINISHED',
        `The run has already finished (${run.record.status}).`,
      );
    }
    const request = await this.deps.writes.pendingInput(runId, body.requestId);
    if (!request) throw notPending(body.requestId);
    const answer = answerOf(request, body, by);
    if (answer.arguments !== undefined) await this.checkArguments(run, request, answer.arguments);
    const event: RunEventInput = {
      type: 'input.received',
      requestId: request.id,
      step: request.step,
      ...(answer.decision ? { decision: answer.decision } : {}),
      by: by.keyId,
    };
    const closed = await this.deps.writes.closeInput(runId, request, answer, event);
    if (closed === 'finished' || closed === 'gone') {
      throw new RefusedError('conflict', 'RUN_FINISHED', 'The run has already finished.');
    }
    if (closed === 'closed') throw notPending(body.requestId);
    this.deps.log.info(
      { audit: 'input.answered', runId, requestId: request.id, kind: request.kind, by: by.keyId },
      'human input answered',
    );
    await this.deps.queue.wake(runId);
    await this.deps.webhooks.notify(runId, event);
    return answer;
  }

  /** Edited arguments of an approval must fit the tool's declared parameters (400 otherwise). */
  private async checkArguments(run: StoredRun, request: PendingInput, args: unknown): Promise<void> {
    const { record } = run;
    const { team } = await resolveRunTeam(this.deps.teams, {
      team: record.team,
      teamVersion: record.teamVersion,
      variant: record.variant,
    });
    const tool = team.tools?.find((t) => t.name === request.tool);
    // MCP and search tools declare no parameters in the team; their own checks apply when the call runs.
    if (tool?.kind !== 'http') return;
    const compiled = compileJsonSchema(tool.parameters);
    if (!compiled.ok) return;
    const checked = compiled.schema.check(args);
    if (!checked.ok) {
      throw new RefusedError(
        'invalid',
        'VALIDATION_ERROR',
        `The edited arguments do not fit the tool's parameters: ${checked.problem}`,
        { requestId: request.id, tool: request.tool },
      );
    }
  }

  /** The run found `request` expired: closes it with the default decision, or returns the answer that won. */
  async expire(runId: string, request: PendingInput): Promise<HumanAnswer> {
    const answer = expiredAnswer(request, Date.now());
    const event: RunEventInput = {
      type: 'input.expired',
      requestId: request.id,
      step: request.step,
      decision: 'reject',
    };
    const closed = await this.deps.writes.closeInput(runId, request, answer, event);
    if (closed === 'ok') {
      await this.deps.webhooks.notify(runId, event);
      return answer;
    }
    // Answered first (or never recorded pending, when the run stopped before it could be): the journal says.
    const recorded = await this.deps.writes.journaledAnswer(runId, request.step);
    if (recorded) return recorded;
    const written = await this.deps.writes.closeExpiredUnrecorded(runId, request, answer);
    if (written === answer) await this.deps.webhooks.notify(runId, event);
    return written ?? answer;
  }
}

function notPending(requestId: string): RefusedError {
  return new RefusedError(
    'conflict',
    'INPUT_NOT_PENDING',
    `Request "${requestId}" is not pending: it was answered or has expired, or the run never asked it.`,
    { requestId },
  );
}

/** The journaled answer of a body that fits the request's kind. */
function answerOf(request: PendingInput, body: InputAnswer, by: Answerer): HumanAnswer {
  const at = new Date().toISOString();
  if (request.kind === 'approval') {
    if (!('decision' in body)) {
      throw new RefusedError('invalid', 'VALIDATION_ERROR', 'This request is an approval: send a decision.', {
        requestId: request.id,
      });
    }
    return {
      requestId: request.id,
      decision: body.decision,
      ...(body.arguments !== undefined ? { arguments: body.arguments } : {}),
      ...(body.comment !== undefined ? { comment: body.comment } : {}),
      by: by.keyId,
      at,
    };
  }
  if (!('answer' in body)) {
    throw new RefusedError('invalid', 'VALIDATION_ERROR', 'This request is a question: send an answer.', {
      requestId: request.id,
    });
  }
  return { requestId: request.id, answer: body.answer, by: by.keyId, at };
}
