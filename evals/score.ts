import type { NewsLabel, SupportLabel } from './datasets/schema.js';
import { newsDeskQuality, supportDeskQuality } from './scorers/index.js';

/** The per-team quality scorer reports use: the label and the run's output in, `{ score, components }` out. */
export type QualityScorer = (
  expected: unknown,
  output: unknown,
) => { score: number; components: Record<string, number> };

export const qualityScorers: Readonly<Record<string, QualityScorer>> = {
  // The dataset loader validated `expected` against the team's label schema.
  'news-desk': (expected, output) => newsDeskQuality(expected as NewsLabel, output),
  'support-desk': (expected, output) => supportDeskQuality(expected as SupportLabel, output),
};

/** What the scorer sees of a run's output: the structured answer, else the text when it is JSON, else nothing. */
export function scorableOutput(output: { text: string; structured?: unknown } | undefined): unknown {
  if (!output) return undefined;
  if (output.structured !== undefined) return output.structured;
  try {
    return JSON.parse(output.text);
  } catch {
    return undefined;
  }
}
