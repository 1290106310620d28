import { z } from 'zod';

/** The final output of a `news-desk` run, under every pattern. Eval datasets label against this shape. */
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
