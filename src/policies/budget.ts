import { BudgetExceededError } from '../core/errors.js';
import type { RunUsage } from '../core/run.js';
import type { BudgetView } from '../core/run-context.js';

/**
 * A run's token and model-call budget. Every model call of the run (retries and managers included) reserves
 * a call before it is sent and records its usage after; replayed steps record their journaled usage, so the
 * totals are the same on whichever worker finishes the run.
 */
export class RunBudget implements BudgetView {
  private readonly used: RunUsage = { inputTokens: 0, outputTokens: 0, modelCalls: 0 };

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

  /**
   * Throws `BudgetExceededError` when one more call with about `inputTokens` prompt tokens would go over a limit;
   * otherwise counts the call and returns how many output tokens it may still produce (undefined: no limit).
   */
  reserveCall(inputTokens: number): number | undefined {
    const outputAllowance = this.check(inputTokens);
    this.used.modelCalls += 1;
    return outputAllowance;
  }

  /** Like `reserveCall` without counting the call: the runtime's first gate, before the breaker. */
  check(inputTokens: number): number | undefined {
    if (this.maxModelCalls !== undefined && this.used.modelCalls + 1 > this.maxModelCalls) {
      throw new BudgetExceededError('modelCalls', this.maxModelCalls, this.used.modelCalls);
    }
    let outputAllowance: number | undefined;
    if (this.maxTokens !== undefined) {
      outputAllowance = this.maxTokens - this.tokens() - inputTokens;
      if (outputAllowance < 1) throw new BudgetExceededError('tokens', this.maxTokens, this.tokens());
    }
    return outputAllowance;
  }

  record(usage: { inputTokens: number; outputTokens: number }, costUsd?: number): void {
    this.used.inputTokens += usage.inputTokens;
    this.used.outputTokens += usage.outputTokens;
    if (costUsd !== undefined) this.used.costUsd = (this.used.costUsd ?? 0) + costUsd;
  }

  /** Replaying a journaled step: its calls and usage count as if made now. */
  replay(usage: { inputTokens: number; outputTokens: number }, modelCalls: number, costUsd?: number): void {
    this.used.modelCalls += modelCalls;
    this.record(usage, costUsd);
  }
}
