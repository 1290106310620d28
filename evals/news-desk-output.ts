import { z } from 'zod';

/**
 * The final output of a `news-desk` run in zod, for the evals: the labels of the news dataset are this shape minus
 * its free text, and the scorers read runs' outputs through it. The team itself declares the same shape in JSON
 * Schema (teams/news-desk.yaml); a test keeps the two equal.
 */
export const directions = ['increase', 'decrease', 'stay'] as const;

export const companyOutlookSchema = z.object({
  name: z.string().min(1),
  direction: z.enum(directions),
  reason: z.string().min(1),
});

export const newsDeskOutputSchema = z.object({
  title: z.string().min(1),
  summary: z.string().min(1),
  isBusiness: z.boolean(),
  companies: z.array(companyOutlookSchema),
});
export type NewsDeskOutput = z.infer<typeof newsDeskOutputSchema>;
