import type { ParsedPrompt } from '../orchestrators/prompt.js';
import { offeredTransfers, transferTo } from './handoff-skills.js';
import { managerSkill } from './manager-skills.js';
import type { Skill, SkillOutput } from './skill.js';

/**
 * Skills for the `support-desk` team. A ticket is read with keyword lexicons, one per resolution category; a
 * specialist's score is the sum of its categories' hits. Triage routes to the best-scoring specialist, a
 * specialist hands a ticket that is clearly someone else's back to triage, and answers `{ specialist, category,
 * reply }` otherwise. Deliberately simple: it exists so routing can be exercised and scored offline.
 */

export const SPECIALISTS = ['billing', 'technical', 'account'] as const;
export type Specialist = (typeof SPECIALISTS)[number];

const LEXICON: Record<Specialist, Record<string, readonly string[]>> = {
  billing: {
    refund: ['refund', 'refunded', 'money back', 'reimburse', 'reimbursement', 'chargeback'],
    invoice: ['invoice', 'invoices', 'receipt', 'vat', 'billing address', 'tax id'],
    'payment-failure': [
      'payment failed',
      'card declined',
      'declined',
      'charged twice',
      'double charged',
      'payment',
      'unpaid',
    ],
    'plan-change': ['upgrade', 'downgrade', 'plan', 'subscription', 'pricing', 'seats'],
  },
  technical: {
    bug: ['bug', 'error', 'crash', 'crashes', 'broken', 'exception', 'glitch', 'wrong', 'incorrect'],
    outage: ['outage', 'down', 'unavailable', 'not loading', '503', 'offline', 'stopped'],
    integration: ['api', 'webhook', 'webhooks', 'integration', 'sdk', 'endpoint', 'sync', 'oauth', 'connect'],
    performance: ['slow', 'latency', 'timeout', 'timeouts', 'lag', 'performance'],
  },
  account: {
    login: ['log in', 'login', 'sign in', 'locked out', '2fa', 'two-factor'],
    'password-reset': ['password', 'reset link', 'forgot'],
    access: ['access', 'permission', 'permissions', 'role', 'invite', 'admin', 'ownership'],
    closure: ['close my account', 'delete my account', 'close', 'delete', 'deactivate', 'cancel my account'],
  },
};

const DEFAULT_CATEGORY: Record<Specialist, string> = {
  billing: 'invoice',
  technical: 'bug',
  account: 'access',
};

const REPLIES: Record<string, string> = {
  refund: 'We have opened a refund for the charge; it reaches your card within 5–10 business days.',
  invoice: 'We have re-issued the invoice with the corrected details and sent it to your billing email.',
  'payment-failure':
    'Your payment did not go through. Please update the card on file; we retry the charge within 24 hours.',
  'plan-change': 'We have prepared the plan change; it takes effect at the start of your next billing cycle.',
  bug: 'Thanks for the report: we reproduced the error and filed it with engineering; we will update you on the fix.',
  outage: 'We are aware of the disruption and are working on it; the status page has live updates.',
  integration:
    'Please check the API credentials and webhook URL in the integration settings; our guide walks through each step.',
  performance:
    'We are looking into the slowness on our side; meanwhile, retrying with smaller batches helps.',
  login: 'We have unlocked your sign-in; please try again and re-enrol two-factor authentication if asked.',
  'password-reset':
    'We have sent a fresh password reset link to the email on the account; it is valid for one hour.',
  access:
    'An administrator of your workspace can grant that access from the members page; we have notified them.',
  closure:
    'We have scheduled the account closure; you will receive a confirmation email, and data is deleted after 30 days.',
};

function hits(text: string, term: string): number {
  const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.match(new RegExp(`(?<![a-z0-9])${escaped}(?![a-z0-9])`, 'g'))?.length ?? 0;
}

/** A category's score: its terms' hits, a phrase weighing as many hits as it has words (stronger evidence). */
export function categoryScores(ticket: string, specialist: Specialist): [string, number][] {
  const text = ticket.toLowerCase();
  return Object.entries(LEXICON[specialist]).map(([category, terms]) => [
    category,
    terms.reduce((sum, term) => sum + hits(text, term) * term.split(' ').length, 0),
  ]);
}

export function specialistScore(ticket: string, specialist: Specialist): number {
  return categoryScores(ticket, specialist).reduce((sum, [, n]) => sum + n, 0);
}

/** Specialists from best to worst score; ties keep the order billing, technical, account. */
export function rankSpecialists(ticket: string): Specialist[] {
  return [...SPECIALISTS].sort((a, b) => specialistScore(ticket, b) - specialistScore(ticket, a));
}

/** The specialist's best-scoring category for the ticket (its default category when nothing matches). */
export function categoryFor(ticket: string, specialist: Specialist): string {
  let best: [string, number] = [DEFAULT_CATEGORY[specialist], 0];
  for (const entry of categoryScores(ticket, specialist)) if (entry[1] > best[1]) best = entry;
  return best[0];
}

export function resolve(
  ticket: string,
  specialist: Specialist,
): { specialist: Specialist; category: string; reply: string } {
  const category = categoryFor(ticket, specialist);
  return { specialist, category, reply: REPLIES[category] ?? 'We are looking into your request.' };
}

function isSpecialist(name: string | undefined): name is Specialist {
  return (SPECIALISTS as readonly string[]).includes(name ?? '');
}

/** Complete answers in the work so far (`{ specialist, category, reply }`), by agent. */
function answersIn(prompt: ParsedPrompt): { agent: string; answer: Record<string, unknown> }[] {
  const found: { agent: string; answer: Record<string, unknown> }[] = [];
  for (const p of prompt.prior) {
    try {
      const value: unknown = JSON.parse(p.text);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const v = value as Record<string, unknown>;
        if (isSpecialist(v.specialist as string) && typeof v.reply === 'string')
          found.push({ agent: p.agent, answer: v });
      }
    } catch {
      // Not JSON: a note or a hand-back, not an answer.
    }
  }
  return found;
}

/** The answer of the best-ranked specialist among `answers` (the last one when none is ranked). */
function bestAnswer(
  ticket: string,
  answers: { answer: Record<string, unknown> }[],
): Record<string, unknown> | undefined {
  for (const s of rankSpecialists(ticket)) {
    const a = answers.find((x) => x.answer.specialist === s);
    if (a) return a.answer;
  }
  return answers[answers.length - 1]?.answer;
}

/**
 * `support.triage`: relays a specialist's answer once there is one (picking the best-ranked when several
 * answered, as a concurrent aggregator); otherwise routes to the best-scoring specialist that has not handed the
 * ticket back, to the generalist when no specialist fits, or answers asking for details when no transfer is left.
 */
const triageSkill: Skill = ({ request, prompt }) => {
  const ticket = prompt.task;
  const best = bestAnswer(ticket, answersIn(prompt));
  if (best) return { json: best };
  const offered = offeredTransfers(request);
  const declined = new Set(prompt.prior.map((p) => p.agent));
  const candidate = rankSpecialists(ticket).find(
    (s) => offered.includes(s) && !declined.has(s) && specialistScore(ticket, s) > 0,
  );
  if (candidate) {
    return transferTo(candidate, `The ticket is about ${categoryFor(ticket, candidate)} (${candidate}).`);
  }
  if (offered.includes('generalist') && !declined.has('generalist')) {
    return transferTo('generalist', 'No specialist fits this ticket.');
  }
  const fallback = rankSpecialists(ticket)[0] ?? 'account';
  return {
    json: {
      specialist: fallback,
      category: categoryFor(ticket, fallback),
      reply: 'Thanks for reaching out. Could you tell us a little more about the problem so we can route it?',
    },
  };
};

/**
 * `support.specialist` (billing, technical, account — the agent's name says which): hands the ticket back to
 * triage when another specialist's lexicon clearly fits better, relays an answer already given, and otherwise
 * resolves it with its own best category.
 */
const specialistSkill: Skill = ({ request, prompt }) => {
  const ticket = prompt.task;
  const me: Specialist = isSpecialist(request.agent)
    ? request.agent
    : (rankSpecialists(ticket)[0] ?? 'account');
  const relayed = bestAnswer(
    ticket,
    answersIn(prompt).filter((a) => a.agent !== me),
  );
  if (relayed) return { json: relayed };
  const mine = specialistScore(ticket, me);
  const better = SPECIALISTS.find((s) => s !== me && specialistScore(ticket, s) > mine);
  if (better && offeredTransfers(request).includes('triage')) {
    return transferTo('triage', `This is a ${better} matter, not ${me}.`);
  }
  return { json: resolve(ticket, me) };
};

/** `support.generalist`: the fallback; does the work of the specialist named in its instruction, or the best fit. */
const generalistSkill: Skill = ({ prompt }): SkillOutput => {
  const ticket = prompt.task;
  const named = /Do the work of "([a-z-]+)"/.exec(prompt.instruction ?? '')?.[1];
  const specialist: Specialist = isSpecialist(named) ? named : (rankSpecialists(ticket)[0] ?? 'account');
  const answer = resolve(ticket, specialist);
  return { json: { ...answer, reply: `${answer.reply} (Handled by the general support queue.)` } };
};

/** `support.manager` (magentic): one specialist — the best fit — resolves the ticket; its answer is the result. */
const supportManagerSkill = managerSkill({
  needed: (prompt) => [rankSpecialists(prompt.task)[0] ?? 'account'],
  ask: (agent) => `Resolve the ticket as the ${agent} specialist: choose the category and write the reply.`,
  guesses: (prompt) => {
    const s = rankSpecialists(prompt.task)[0] ?? 'account';
    return [`The ticket looks like a ${s} matter (${categoryFor(prompt.task, s)}).`];
  },
  derive: ['The reply to the customer, with the specialist and resolution category.'],
  final: ({ prompt }) => {
    const best = bestAnswer(prompt.task, answersIn(prompt));
    return { json: best ?? resolve(prompt.task, rankSpecialists(prompt.task)[0] ?? 'account') };
  },
});

export const supportSkills: Record<string, Skill> = {
  'support.triage': triageSkill,
  'support.specialist': specialistSkill,
  'support.generalist': generalistSkill,
  'support.manager': supportManagerSkill,
};
