import { GuardrailBlockedError } from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import type { GuardrailHooks, GuardrailOutcome } from '../core/hooks.js';
import type { ChatMessage } from '../core/model.js';
import type { RunOutput } from '../core/run.js';
import {
  type ContentSafetyClient,
  ContentSafetyUnavailableError,
  SHIELD_MAX_CHARS,
  type ShieldResult,
} from './content-safety.js';
import { type AnswerRules, answerRules } from './output-rules.js';
import type { PiiMode, TeamGuardrails } from './schema.js';
import { PiiVault } from './vault.js';

/** Which agent call a check belongs to. */
export interface GuardrailCallRef {
  agent: string;
  step: string;
  signal: AbortSignal;
}

/** What the answer checks decided: keep it, or the rule it broke and whether the team wants a re-ask. */
export type AnswerVerdict =
  | { ok: true }
  /** `hint` says what the agent broke when it is asked again (default: the rule's name). */
  | { ok: false; guardrail: string; rule: string; reask: boolean; hint?: string };

/** What a judge is asked: does this agent's answer keep the team's policy? */
export interface JudgeRequest {
  agent: string;
  step: string;
  policy: string;
  answer: string;
  signal: AbortSignal;
}

export interface JudgeVerdict {
  compliant: boolean;
  reason?: string | undefined;
}

/** Asks the team's judge agent (the engine runs it through the agent runtime, under the judge's own budget). */
export type Judge = (request: JudgeRequest) => Promise<JudgeVerdict>;

export interface RunGuardrailsDeps {
  hooks: GuardrailHooks;
  emit(event: RunEventInput): Promise<void>;
  contentSafety?: ContentSafetyClient | undefined;
  judge?: Judge | undefined;
}

interface Decision {
  outcome: GuardrailOutcome;
  findings?: Record<string, number>;
  reason?: string;
}

export const WITHHELD_NOTICE =
  '[This tool result was withheld: a guardrail flagged it as a prompt-injection attempt.]';

/**
 * The guardrails of one execution of a run, as its team declares them: the checks on what each agent call sends
 * to a model (PII, Prompt Shields) and on what it answers (answer rules, Content Safety), and the PII placeholders'
 * bookkeeping. Every check is reported through the hooks (a span, a metric); every check that transformed,
 * blocked, re-asked or could not check is also a `guardrail.triggered` event carrying its outcome and the kinds of
 * what it found, never the content.
 */
export class RunGuardrails {
  private readonly vault: PiiVault | undefined;
  private readonly piiMode: PiiMode;
  private readonly rules: AnswerRules | undefined;
  private readonly shieldCache = new Map<string, Promise<ShieldResult>>();

  constructor(
    private readonly config: TeamGuardrails,
    input: string,
    private readonly deps: RunGuardrailsDeps,
  ) {
    this.piiMode = config.pii?.mode ?? 'off';
    if (config.pii && this.piiMode !== 'off') {
      this.vault = new PiiVault({
        kinds: config.pii.kinds ?? ['email', 'phone', 'card', 'iban'],
        phoneRegions: config.pii.phoneRegions ?? [],
        phoneCache: new Map(),
        patterns: (config.pii.patterns ?? []).map((p) => ({
          name: p.name,
          regex: new RegExp(p.pattern, 'g'),
        })),
      });
      // The run's input first, so placeholders are numbered the same in every execution of the run.
      if (this.piiMode === 'redact') this.vault.redact(input);
    }
    this.rules = config.output ? answerRules(config.output) : undefined;
  }

  /** The messages an agent call may send: personal data redacted, flagged documents withheld, or a block. */
  async beforeCall(ref: GuardrailCallRef, messages: ChatMessage[]): Promise<ChatMessage[]> {
    let out = messages;
    if (this.vault) out = await this.check(ref, 'pii', 'input', () => this.pii(ref, out));
    if (this.config.promptShields?.mode === 'on') {
      out = await this.check(ref, 'prompt-shields', 'input', () => this.shields(ref, out));
    }
    return out;
  }

  /** Whether an agent's answer may go on. */
  async afterCall(ref: GuardrailCallRef, text: string, asked: number): Promise<AnswerVerdict> {
    if (this.rules?.applies(ref.agent)) {
      const rules = this.rules;
      const reask = this.config.output?.onFail === 'reask' && asked === 1;
      const verdict = await this.check(ref, 'output', 'output', async () => {
        const rule = rules.broken(text);
        const value: AnswerVerdict = rule ? { ok: false, guardrail: 'output', rule, reask } : { ok: true };
        return {
          value,
          outcome: rule ? (reask ? 'reask' : 'block') : 'pass',
          ...(rule ? { reason: rule } : {}),
        };
      });
      if (!verdict.ok) return verdict;
    }
    const judged = await this.judged(ref, text, asked);
    if (!judged.ok) return judged;
    if (this.config.contentSafety?.mode === 'on' && text.trim() !== '') {
      return this.check(ref, 'content-safety', 'output', () => this.analyze(ref, text));
    }
    return { ok: true };
  }

  /**
   * The judge's verdict on an answer (not on the judge's own answers, nor on empty ones). A judge that cannot
   * answer — its budget spent, its model failing — blocks the call: a team that asked for the check does not
   * run without it.
   */
  private async judged(ref: GuardrailCallRef, text: string, asked: number): Promise<AnswerVerdict> {
    const judge = this.config.output?.judge;
    if (!judge || !this.rules?.applies(ref.agent) || ref.agent === judge.agent || text.trim() === '') {
      return { ok: true };
    }
    const ask = this.deps.judge;
    const reask = this.config.output?.onFail === 'reask' && asked === 1;
    return this.check(ref, 'judge', 'output', async () => {
      let verdict: JudgeVerdict;
      try {
        if (!ask) throw new Error('no judge');
        verdict = await ask({
          agent: ref.agent,
          step: ref.step,
          policy: judge.policy,
          answer: text,
          signal: ref.signal,
        });
      } catch (err) {
        if (ref.signal.aborted) throw err;
        const reason = `judge unavailable (${(err as { code?: string }).code ?? 'error'})`;
        throw new GuardrailBlockedError('judge', 'output', ref.agent, reason);
      }
      if (verdict.compliant) return { value: { ok: true } as AnswerVerdict, outcome: 'pass' as const };
      const hint = `this team's policy: ${judge.policy}`;
      const value: AnswerVerdict = { ok: false, guardrail: 'judge', rule: 'policy', reask, hint };
      return { value, outcome: reask ? ('reask' as const) : ('block' as const), reason: 'policy' };
    });
  }

  /** Text with this run's placeholders put back to the values they stand for. */
  restore(text: string): string {
    return this.vault ? this.vault.restore(text) : text;
  }

  /** A run's output with its placeholders put back (the record's output; events keep the placeholders). */
  restoreOutput(output: RunOutput): RunOutput {
    if (!this.vault) return output;
    return {
      text: this.vault.restore(output.text),
      ...(output.structured !== undefined ? { structured: this.vault.restoreValue(output.structured) } : {}),
    };
  }

  private async check<T>(
    ref: GuardrailCallRef,
    guardrail: string,
    stage: 'input' | 'output',
    run: () => Promise<Decision & { value: T }>,
  ): Promise<T> {
    const info = { guardrail, stage, agent: ref.agent, step: ref.step };
    const decision = await this.deps.hooks.check(info, async () => {
      try {
        const decided = await run();
        await this.report(ref, guardrail, stage, decided);
        return decided;
      } catch (err) {
        if (err instanceof GuardrailBlockedError) {
          await this.report(ref, guardrail, stage, {
            outcome: 'block',
            reason: String(err.details?.reason ?? ''),
            ...(err.details?.findings ? { findings: err.details.findings as Record<string, number> } : {}),
          });
        }
        throw err;
      }
    });
    return decision.value;
  }

  /** A check that changed, stopped or could not check anything is an event; a plain pass is only a span. */
  private async report(ref: GuardrailCallRef, guardrail: string, stage: 'input' | 'output', d: Decision) {
    if (d.outcome === 'pass' && !d.reason) return;
    await this.deps.emit({
      type: 'guardrail.triggered',
      agent: ref.agent,
      step: ref.step,
      guardrail,
      stage,
      outcome: d.outcome,
      ...(d.findings && Object.keys(d.findings).length > 0 ? { findings: d.findings } : {}),
      ...(d.reason ? { reason: d.reason } : {}),
    });
  }

  private async pii(ref: GuardrailCallRef, messages: ChatMessage[]) {
    const vault = this.vault as PiiVault;
    const findings: Record<string, number> = {};
    const add = (found: Record<string, number>) => {
      for (const [kind, n] of Object.entries(found)) findings[kind] = (findings[kind] ?? 0) + n;
    };
    // The team's own instructions (system messages) are not customer data; everything else is checked.
    if (this.piiMode === 'block') {
      for (const m of messages) if (m.role !== 'system') add(vault.scan(m.content));
      if (Object.keys(findings).length > 0) {
        throw new GuardrailBlockedError('pii', 'input', ref.agent, `found ${describe(findings)}`, findings);
      }
      return { value: messages, outcome: 'pass' as const };
    }
    const value = messages.map((m) => {
      if (m.role === 'system') return m;
      const redacted = vault.redact(m.content);
      add(redacted.findings);
      return redacted.text === m.content ? m : { ...m, content: redacted.text };
    });
    const changed = Object.keys(findings).length > 0;
    return { value, outcome: changed ? ('transform' as const) : ('pass' as const), findings };
  }

  private async shields(ref: GuardrailCallRef, messages: ChatMessage[]) {
    const config = this.config.promptShields;
    const client = this.deps.contentSafety;
    const prompt = messages
      .filter((m) => m.role === 'user')
      .map((m) => m.content)
      .join('\n\n')
      .slice(-SHIELD_MAX_CHARS);
    const documents = messages.flatMap((m, i) => (m.role === 'tool' ? [{ i, text: m.content }] : []));
    try {
      if (!client) throw new ContentSafetyUnavailableError('Content Safety is not configured.');
      const { userPromptAttack: promptAttack, documentAttacks } = await this.shielded(
        client,
        prompt,
        documents.map((d) => d.text.slice(-Math.floor(SHIELD_MAX_CHARS / documents.length))),
        ref.signal,
      );
      if (promptAttack)
        throw new GuardrailBlockedError('prompt-shields', 'input', ref.agent, 'user prompt attack');
      const flagged = documents.filter((_, k) => documentAttacks[k]);
      if (flagged.length === 0) return { value: messages, outcome: 'pass' as const };
      if (config?.onAttack !== 'withhold') {
        throw new GuardrailBlockedError('prompt-shields', 'input', ref.agent, 'document attack');
      }
      const withheld = new Set(flagged.map((d) => d.i));
      const value = messages.map((m, i) => (withheld.has(i) ? { ...m, content: WITHHELD_NOTICE } : m));
      return { value, outcome: 'transform' as const, findings: { document_attack: flagged.length } };
    } catch (err) {
      if (!(err instanceof ContentSafetyUnavailableError)) throw err;
      return this.unavailable(ref, 'prompt-shields', 'input', config?.onUnavailable, messages);
    }
  }

  /** A prompt and its documents through Prompt Shields, once per run: the same texts are not sent twice. */
  private shielded(client: ContentSafetyClient, prompt: string, documents: string[], signal: AbortSignal) {
    const key = JSON.stringify([prompt, documents]);
    let pending = this.shieldCache.get(key);
    if (!pending) {
      pending = client.shieldPrompt(prompt, documents, signal);
      pending.catch(() => this.shieldCache.delete(key));
      this.shieldCache.set(key, pending);
    }
    return pending;
  }

  private async analyze(ref: GuardrailCallRef, text: string) {
    const config = this.config.contentSafety;
    const max = config?.maxSeverity ?? 2;
    try {
      if (!this.deps.contentSafety)
        throw new ContentSafetyUnavailableError('Content Safety is not configured.');
      const categories = await this.deps.contentSafety.analyzeText(text, ref.signal);
      const over = categories.filter((c) => c.severity > max);
      if (over.length > 0) {
        const reason = `severity over ${max} in ${over.map((c) => c.category).join(', ')}`;
        throw new GuardrailBlockedError('content-safety', 'output', ref.agent, reason);
      }
      return { value: { ok: true } as AnswerVerdict, outcome: 'pass' as const };
    } catch (err) {
      if (!(err instanceof ContentSafetyUnavailableError)) throw err;
      return this.unavailable(ref, 'content-safety', 'output', config?.onUnavailable, {
        ok: true,
      } as AnswerVerdict);
    }
  }

  /** The team's fail-open or fail-closed rule when Content Safety cannot answer. */
  private unavailable<T>(
    ref: GuardrailCallRef,
    guardrail: string,
    stage: 'input' | 'output',
    rule: 'open' | 'closed' | undefined,
    passThrough: T,
  ): Decision & { value: T } {
    if (rule === 'open') return { value: passThrough, outcome: 'pass', reason: 'unavailable (fail-open)' };
    throw new GuardrailBlockedError(guardrail, stage, ref.agent, 'Content Safety unavailable (fail-closed)');
  }
}

function describe(findings: Record<string, number>): string {
  return Object.entries(findings)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
}
