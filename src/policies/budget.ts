import type { RunAbortSignal } from '../core/abort.js';
import { BudgetExceededError } from '../core/errors.js';
import type { TokenUsage } from '../core/model.js';
import type { RunUsage } from '../core/run.js';
import type { BudgetView } from '../core/run-context.js';

/**
 * Output tokens reserved for a call whose agent sets no `maxOutputTokens` when the run has a token budget. A cap,
 * so that concurrent branches of a run with a large budget can each hold a reservation at once; a call with more
 * to say ends with finish reason `length`, like any call at its limit.
 */
export const DEFAULT_OUTPUT_RESERVATION = 4_096;

export interface CallReservation {
  /** What the call is asked to estimate: its prompt, and the output it would like (the agent's cap). */
  promptTokens: number;
  wantedOutputTokens: number | undefined;
  /** Extra prompt of a corrective re-ask (the schema it quotes) when the call asks for structured output. */
  reaskPromptTokens?: number | undefined;
}

/** A granted reservation: what the call may spend. Settle it exactly once, with what the call really spent. */
export interface Reservation {
  /** The output cap to send (undefined: no limit). */
  readonly maxOutputTokens: number | undefined;
  /** Model requests the call may make: 2 when a corrective re-ask of a structured answer fits, else 1. */
  readonly maxRequests: number;
  settle(spent: { usage: TokenUsage; requests: number; costUsd?: number | undefined }): void;
}

/**
 * A run's token and model-call budget. Every model call of the run (retries, re-asks and managers included)
 * reserves before it is sent — its requests, its prompt and the most it may answer — and settles to its real usage
 * after, so concurrent calls never share the same remaining tokens. A call that would fit once calls in flight
 * settle waits for them; one that cannot fit is refused. The run therefore never uses more than `maxTokens` by more
 * than the error of one prompt's estimate. Replayed steps record their journaled usage, so the totals are the same
 * on whichever worker finishes the run.
 */
export class RunBudget implements BudgetView {
  private readonly used: RunUsage = { inputTokens: 0, outputTokens: 0, modelCalls: 0 };
  private reservedTokens = 0;
  private reservedCalls = 0;
  private readonly waiting = new Set<() => void>();

  constructor(
    readonly maxTokens: number | undefined,
    readonly maxModelCalls: number | undefined,
  ) {}

  usage(): RunUsage {
    return { ...this.used };
  }

  private tokens(): number {
    return this.used.inputTokens + this.used.outputTokens;
  }

  /** The runtime's first gate, before the breaker: refuses when no call could fit even after those in flight. */
  check(promptTokens: number): void {
    if (this.maxModelCalls !== undefined && this.used.modelCalls + 1 > this.maxModelCalls) {
      throw new BudgetExceededError('modelCalls', this.maxModelCalls, this.used.modelCalls);
    }
    if (this.maxTokens !== undefined && this.maxTokens - this.tokens() - promptTokens < 1) {
      throw new BudgetExceededError('tokens', this.maxTokens, this.tokens());
    }
  }

  /**
   * Reserves one model call: waits while calls in flight hold what it needs, throws `BudgetExceededError` when
   * it cannot fit even after they settle, or rejects with the signal's reason when aborted while waiting.
   */
  async reserve(call: CallReservation, signal: RunAbortSignal): Promise<Reservation> {
    for (;;) {
      signal.throwIfAborted();
      const granted = this.tryReserve(call);
      if (granted) return granted;
      await this.nextSettlement(signal);
    }
  }

  /** A reservation if one fits now; undefined when it must wait for calls in flight; throws when it never fits. */
  private tryReserve(call: CallReservation): Reservation | undefined {
    this.check(call.promptTokens);
    const freeCalls =
      this.maxModelCalls === undefined
        ? Number.POSITIVE_INFINITY
        : this.maxModelCalls - this.used.modelCalls - this.reservedCalls;
    if (freeCalls < 1) return undefined;
    let maxOutputTokens = call.wantedOutputTokens;
    let tokens = 0;
    let reask = call.reaskPromptTokens !== undefined && freeCalls >= 2;
    if (this.maxTokens !== undefined) {
      const free = this.maxTokens - this.tokens() - this.reservedTokens;
      maxOutputTokens = Math.min(
        call.wantedOutputTokens ?? DEFAULT_OUTPUT_RESERVATION,
        free - call.promptTokens,
      );
      if (maxOutputTokens < 1) return undefined;
      tokens = call.promptTokens + maxOutputTokens;
      // The re-ask sends the prompt, the first answer and the correction, and may answer as much again.
      const reaskTokens = call.promptTokens + 2 * maxOutputTokens + (call.reaskPromptTokens ?? 0);
      reask &&= free - tokens >= reaskTokens;
      if (reask) tokens += reaskTokens;
    }
    const requests = reask ? 2 : 1;
    this.reservedTokens += tokens;
    this.reservedCalls += requests;
    let settled = false;
    return {
      maxOutputTokens,
      maxRequests: requests,
      settle: (spent) => {
        if (settled) return;
        settled = true;
        this.reservedTokens -= tokens;
        this.reservedCalls -= requests;
        this.used.modelCalls += spent.requests;
        this.record(spent.usage, spent.costUsd);
        for (const wake of [...this.waiting]) wake();
      },
    };
  }

  private nextSettlement(signal: RunAbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.waiting.delete(done);
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiting.delete(done);
        reject(signal.reason);
      };
      this.waiting.add(done);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private record(usage: TokenUsage, costUsd?: number): void {
    this.used.inputTokens += usage.inputTokens;
    this.used.outputTokens += usage.outputTokens;
    if (costUsd !== undefined) this.used.costUsd = (this.used.costUsd ?? 0) + costUsd;
  }

  /** Replaying a journaled step: its calls and usage count as if made now. */
  replay(usage: TokenUsage, modelCalls: number, costUsd?: number): void {
    this.used.modelCalls += modelCalls;
    this.record(usage, costUsd);
  }
}
