import { type TeamDefinitionInput, teamDefinitionSchema } from '../schema.js';
import { supportDeskOutputSchema } from './support-desk.schema.js';

/**
 * `support-desk`: a customer ticket goes to the specialist who can resolve it — billing, technical or account —
 * who answers with the resolution category and a reply. Under handoff, `triage` owns the conversation and
 * routes; a specialist hands a ticket that is not theirs back to triage; `generalist` stands in for anyone
 * unavailable. Under concurrent every specialist answers and triage picks; under magentic a manager does.
 */
const specialistInstructions = (area: string, categories: string) =>
  `You are the ${area} specialist of a customer support desk. If the ticket is clearly not a ${area} matter, hand it back to triage with the transfer tool and say why. Otherwise resolve it: answer JSON {"specialist": "${area}", "category": one of ${categories}, "reply": the reply to the customer, friendly and concrete}.`;

const definition: TeamDefinitionInput = {
  name: 'support-desk',
  description:
    'Resolves a customer support ticket: routes it to billing, technical or account and writes the reply.',
  outputSchema: supportDeskOutputSchema,
  agents: [
    {
      name: 'triage',
      description:
        'Reads a ticket and routes it to the specialist who can resolve it; relays the final answer.',
      instructions:
        'You triage customer tickets. Hand the ticket to the one specialist who can resolve it (billing, technical or account; the generalist when none fits) with the transfer tools. When a specialist has answered — or, as an aggregator, several have — answer with the best-fitting resolution as JSON {"specialist","category","reply"}.',
      outputSchema: supportDeskOutputSchema,
      handoffs: ['billing', 'technical', 'account', 'generalist'],
      simulation: { skill: 'support.triage' },
    },
    {
      name: 'billing',
      description: 'Billing specialist: refunds, invoices, failed payments and plan changes.',
      instructions: specialistInstructions('billing', 'refund, invoice, payment-failure, plan-change'),
      outputSchema: supportDeskOutputSchema,
      handoffs: ['triage'],
      simulation: { skill: 'support.specialist' },
    },
    {
      name: 'technical',
      description: 'Technical specialist: bugs, outages, integrations and performance problems.',
      instructions: specialistInstructions('technical', 'bug, outage, integration, performance'),
      outputSchema: supportDeskOutputSchema,
      handoffs: ['triage'],
      simulation: { skill: 'support.specialist' },
    },
    {
      name: 'account',
      description: 'Account specialist: sign-in problems, password resets, access and account closure.',
      instructions: specialistInstructions('account', 'login, password-reset, access, closure'),
      outputSchema: supportDeskOutputSchema,
      handoffs: ['triage'],
      simulation: { skill: 'support.specialist' },
    },
    {
      name: 'generalist',
      description: 'General support queue: answers any ticket when no specialist fits or one is unavailable.',
      instructions:
        'You answer tickets no specialist can take right now. Resolve the ticket as well as you can, for the specialist area it belongs to, and answer JSON {"specialist","category","reply"}.',
      outputSchema: supportDeskOutputSchema,
      simulation: { skill: 'support.generalist' },
    },
    {
      name: 'support-manager',
      description:
        'Coordinates the support specialists under magentic: keeps the ledgers and writes the final answer.',
      instructions:
        'You coordinate support specialists. Keep a task ledger (facts and a short plan) and, each round, a progress ledger that says whether the ticket is resolved, whether the team is looping or progressing, who speaks next and what to ask them. Answer in the JSON schema requested each time; the final answer is the resolution.',
      simulation: { skill: 'support.manager' },
    },
  ],
  patterns: {
    concurrent: { agents: ['billing', 'technical', 'account'], aggregator: { agent: 'triage' } },
    handoff: { entry: 'triage', fallback: 'generalist' },
    magentic: { manager: 'support-manager', participants: ['billing', 'technical', 'account'] },
  },
};

export const supportDesk = teamDefinitionSchema.parse(definition);
