/** Routing accuracy for handoff-style teams (`support-desk`): did the ticket reach the right specialist and category. */

export interface Routing {
  specialist: string;
  category: string;
}

export interface RoutingScore {
  /** 1 when the specialist is right, else 0. */
  specialist: number;
  /** 1 when the resolution category is right, else 0. */
  category: number;
}

export interface RoutingAccuracy {
  n: number;
  /** Fraction of cases routed to the right specialist. */
  specialist: number;
  /** Fraction of cases with the right category. */
  category: number;
  /** Fraction of cases with both right. */
  both: number;
}

function stringField(value: unknown, field: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : undefined;
}

/** Scores one case. `actual` may be anything: a missing or non-string field scores 0. */
export function routingScore(expected: Routing, actual: unknown): RoutingScore {
  return {
    specialist: stringField(actual, 'specialist') === expected.specialist ? 1 : 0,
    category: stringField(actual, 'category') === expected.category ? 1 : 0,
  };
}

/** Aggregates `routingScore` over cases. With no cases every fraction is 0 and `n` is 0. */
export function routingAccuracy(cases: readonly { expected: Routing; actual: unknown }[]): RoutingAccuracy {
  let specialist = 0;
  let category = 0;
  let both = 0;
  for (const c of cases) {
    const s = routingScore(c.expected, c.actual);
    specialist += s.specialist;
    category += s.category;
    both += s.specialist * s.category;
  }
  const n = cases.length;
  return n === 0
    ? { n, specialist: 0, category: 0, both: 0 }
    : { n, specialist: specialist / n, category: category / n, both: both / n };
}
