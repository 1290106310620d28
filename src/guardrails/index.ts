import type { RunEventInput } from '../core/events.js';
import { type GuardrailHooks, noGuardrailHooks } from '../core/hooks.js';
import type { ContentSafetyClient } from './content-safety.js';
import type { PiiMode, TeamGuardrails } from './schema.js';
import { type Judge, RunGuardrails } from './session.js';

export { ContentSafetyClient, ContentSafetyUnavailableError } from './content-safety.js';
export { type TeamGuardrails, type TeamGuardrailsInput, teamGuardrailsSchema } from './schema.js';
export type { AnswerVerdict, GuardrailCallRef, Judge, JudgeRequest, JudgeVerdict } from './session.js';
export { RunGuardrails, WITHHELD_NOTICE } from './session.js';

export interface GuardrailsDeps {
  /** The operator's PII mode for teams that declare none (BATON_GUARDRAILS_PII). */
  defaultPii?: PiiMode;
  /** Azure AI Content Safety, when the operator configured it (AZURE_CONTENT_SAFETY_ENDPOINT). */
  contentSafety?: ContentSafetyClient | undefined;
  /** Spans and metrics around each check (src/telemetry/). */
  hooks?: GuardrailHooks;
}

/**
 * The guardrails service of a process: the operator's defaults and the Content Safety client, from which each run
 * gets the guardrails its team declares (`forRun`). A run whose team and operator turn nothing on gets none, and
 * its agent calls run exactly as without guardrails.
 */
export class Guardrails {
  constructor(private readonly deps: GuardrailsDeps = {}) {}

  /** The team's declaration with the operator's defaults filled in. */
  effective(team: TeamGuardrails | undefined): TeamGuardrails {
    const declared = team ?? {};
    const defaultPii = this.deps.defaultPii ?? 'off';
    if (declared.pii || defaultPii === 'off') return declared;
    return { ...declared, pii: { mode: defaultPii } };
  }

  forRun(
    team: TeamGuardrails | undefined,
    input: string,
    emit: (event: RunEventInput) => Promise<void>,
    judge?: Judge,
  ): RunGuardrails | undefined {
    const config = this.effective(team);
    const on =
      (config.pii && config.pii.mode !== 'off') ||
      config.promptShields?.mode === 'on' ||
      config.contentSafety?.mode === 'on' ||
      config.output !== undefined;
    if (!on) return undefined;
    return new RunGuardrails(config, input, {
      hooks: this.deps.hooks ?? noGuardrailHooks,
      emit,
      contentSafety: this.deps.contentSafety,
      judge,
    });
  }
}
