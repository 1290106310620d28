import { type CompanyDirection, directionAccuracy } from './direction.js';
import { rougeL } from './rouge.js';
import { type Routing, routingScore } from './routing.js';
import { setF1 } from './set-f1.js';

/**
 * The composite per-case quality scores the reports use, each in [0, 1]. They take the model output as
 * `unknown`: a missing or ill-typed part scores 0 for that part and never throws, so a run that failed or
 * produced garbage simply scores low.
 *
 * news-desk:  0.20·isBusiness + 0.40·company F1 + 0.25·direction accuracy + 0.15·ROUGE-L(summary)
 *   isBusiness        1 when `actual.isBusiness` is the expected boolean
 *   company F1        `setF1` over company names (normalised); 0 when `actual.companies` is not an array
 *   direction         `directionAccuracy` over matched companies; 0 when `actual.companies` is not an array
 *   ROUGE-L           F1 of `rougeL(expected.summary, actual.summary)`; 0 when the summary is not a string
 * For a non-business article labelled with no companies, an output with `companies: []` earns the full
 * company-F1 and direction parts; listing companies there costs both.
 *
 * support-desk: 0.6·specialist + 0.4·category (each 1 when it equals the label exactly).
 */

export interface QualityScore<C extends string> {
  score: number;
  components: Record<C, number>;
}

export const newsDeskWeights = { isBusiness: 0.2, companyF1: 0.4, direction: 0.25, summary: 0.15 } as const;
export const supportDeskWeights = { specialist: 0.6, category: 0.4 } as const;

export interface NewsDeskExpected {
  isBusiness: boolean;
  companies: readonly CompanyDirection[];
  summary: string;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** The companies of an output, keeping only entries with a string name; a non-string direction becomes ''. */
function companiesOf(actual: unknown): CompanyDirection[] | undefined {
  const list = field(actual, 'companies');
  if (!Array.isArray(list)) return undefined;
  const out: CompanyDirection[] = [];
  for (const item of list) {
    const name = field(item, 'name');
    const direction = field(item, 'direction');
    if (typeof name === 'string')
      out.push({ name, direction: typeof direction === 'string' ? direction : '' });
  }
  return out;
}

function weighted<C extends string>(
  weights: Readonly<Record<C, number>>,
  components: Record<C, number>,
): number {
  let score = 0;
  for (const key of Object.keys(weights) as C[]) score += weights[key] * components[key];
  // Guard against floating-point drift just outside [0, 1].
  return Math.min(1, Math.max(0, score));
}

export function newsDeskQuality(
  expected: NewsDeskExpected,
  actual: unknown,
): QualityScore<keyof typeof newsDeskWeights> {
  const companies = companiesOf(actual);
  const summary = field(actual, 'summary');
  const components = {
    isBusiness: field(actual, 'isBusiness') === expected.isBusiness ? 1 : 0,
    companyF1: companies
      ? setF1(
          expected.companies.map((c) => c.name),
          companies.map((c) => c.name),
        ).f1
      : 0,
    direction: companies ? directionAccuracy(expected.companies, companies).accuracy : 0,
    summary: typeof summary === 'string' ? rougeL(expected.summary, summary).f : 0,
  };
  return { score: weighted(newsDeskWeights, components), components };
}

export function supportDeskQuality(
  expected: Routing,
  actual: unknown,
): QualityScore<keyof typeof supportDeskWeights> {
  const components = routingScore(expected, actual);
  return { score: weighted(supportDeskWeights, components), components };
}
