import type { OutputGuardrail } from './schema.js';

/** The answer rules a team declares, compiled once per run: the first rule an answer breaks, or none. */
export interface AnswerRules {
  applies(agent: string): boolean;
  /** The name of the first rule `text` breaks (`maxChars`, `forbiddenPhrases`, `forbiddenPatterns`), or undefined. */
  broken(text: string): string | undefined;
}

export function answerRules(rules: OutputGuardrail): AnswerRules {
  const phrases = (rules.forbiddenPhrases ?? []).map((p) => p.toLowerCase());
  const patterns = (rules.forbiddenPatterns ?? []).map((p) => new RegExp(p, 'i'));
  const agents = rules.agents ? new Set(rules.agents) : undefined;
  return {
    applies: (agent) => agents === undefined || agents.has(agent),
    broken(text) {
      if (rules.maxChars !== undefined && text.length > rules.maxChars) return 'maxChars';
      const lower = text.toLowerCase();
      if (phrases.some((p) => lower.includes(p))) return 'forbiddenPhrases';
      if (patterns.some((p) => p.test(text))) return 'forbiddenPatterns';
      return undefined;
    },
  };
}
