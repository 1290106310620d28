import type { TeamDefinition } from './schema.js';

/** A rule a team registered through the API must pass, beyond the checks every team document passes. */
export interface AdmissionRule {
  name: string;
  /** Problems as paths inside the document and sentences; none when the team passes. */
  check(team: TeamDefinition): { path: (string | number)[]; message: string }[];
}

/**
 * What only an operator may configure. Team files are deployed by operators; documents registered through the
 * API come from admins of the service, who may not use what the operator keeps for itself. Every such rule lives
 * in this list, so the registry checks one place (today none applies beyond the model checks every document
 * passes; rules for tools go here).
 */
export const operatorOnlyRules: readonly AdmissionRule[] = [];

export function admissionProblems(
  team: TeamDefinition,
  rules: readonly AdmissionRule[] = operatorOnlyRules,
): { path: (string | number)[]; message: string }[] {
  return rules.flatMap((rule) => rule.check(team));
}
