import { z } from 'zod';

/**
 * `support-desk` in zod, for the evals: which specialist resolves a ticket, and the resolution categories each one
 * owns. The team declares its output in JSON Schema (teams/support-desk.yaml); a test keeps the two equal.
 */
export const specialists = ['billing', 'technical', 'account'] as const;

export const resolutionCategories = {
  billing: ['refund', 'invoice', 'payment-failure', 'plan-change'],
  technical: ['bug', 'outage', 'integration', 'performance'],
  account: ['login', 'password-reset', 'access', 'closure'],
} as const satisfies Record<(typeof specialists)[number], readonly string[]>;

export const allResolutionCategories = Object.values(resolutionCategories).flat();

export const supportDeskOutputSchema = z.object({
  specialist: z.enum(specialists),
  category: z.enum(allResolutionCategories as [string, ...string[]]),
  reply: z.string().min(1),
});
export type SupportDeskOutput = z.infer<typeof supportDeskOutputSchema>;
