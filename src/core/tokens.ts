/** A token estimate from text length (~4 characters a token): budgets check it before a call, the simulated model reports it. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
