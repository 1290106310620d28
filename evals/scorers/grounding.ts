/**
 * Grounding of support replies: which knowledge-base articles a reply cites (article ids, as the search tool
 * returns them: `"id":"billing-refund-window"`, or the id alone), whether each cited id is a real article, and
 * whether the article that grounds the ticket is among them.
 */

export interface GroundingScore {
  /** Article ids the reply cites, in order, without repeats. */
  cited: string[];
  /** Fraction of cited ids that are articles of the knowledge base (1 when nothing is cited). */
  precision: number;
  /** 1 when the expected article is cited, else 0; undefined when the case names none. */
  hit: number | undefined;
}

/** Ids of the knowledge base that occur in `reply` as whole words, plus quoted `"id":"…"` values. */
export function citedArticles(reply: string, articleIds: readonly string[]): string[] {
  const quoted = [...reply.matchAll(/"id"\s*:\s*"([^"]+)"/g)].map((m) => m[1] as string);
  const named = articleIds.filter((id) => new RegExp(`(^|[^a-z0-9-])${id}($|[^a-z0-9-])`).test(reply));
  return [...new Set([...quoted, ...named])];
}

export function groundingScore(
  reply: string,
  articleIds: readonly string[],
  expected?: string,
): GroundingScore {
  const cited = citedArticles(reply, articleIds);
  const known = new Set(articleIds);
  const real = cited.filter((id) => known.has(id)).length;
  return {
    cited,
    precision: cited.length === 0 ? 1 : real / cited.length,
    hit: expected === undefined ? undefined : cited.includes(expected) ? 1 : 0,
  };
}
