import { z } from 'zod';
import { type TeamDefinitionInput, teamDefinitionSchema } from '../schema.js';
import { companyOutlookSchema, newsDeskOutputSchema } from './news-desk.schema.js';

/**
 * `news-desk`: from a news article, extract title and summary, decide whether it is about business, find the
 * companies mentioned and predict for each whether its stock will increase, decrease or stay, with a reason.
 */
const definition: TeamDefinitionInput = {
  name: 'news-desk',
  description:
    'Reads a news article: summary, business or not, companies mentioned and a stock outlook for each.',
  outputSchema: newsDeskOutputSchema,
  agents: [
    {
      name: 'summarizer',
      description: 'Writes the title and a one- or two-sentence summary of an article.',
      instructions:
        'You summarise news articles. Return JSON with "title" (the article headline) and "summary" (at most two sentences, factual, no opinion).',
      outputSchema: z.object({ title: z.string().min(1), summary: z.string().min(1) }),
      simulation: { skill: 'news.summarize' },
    },
    {
      name: 'classifier',
      description: 'Decides whether an article is about business (companies, markets, finance).',
      instructions:
        'Decide whether the article is about business: companies, markets, earnings, deals or the economy. Return JSON with "isBusiness" and a one-sentence "reason".',
      outputSchema: z.object({ isBusiness: z.boolean(), reason: z.string().min(1) }),
      simulation: { skill: 'news.classify' },
    },
    {
      name: 'extractor',
      description:
        'Finds the companies (businesses) mentioned in an article, ignoring people, places and teams.',
      instructions:
        'List every company or business named in the article, as written there. Ignore people, cities, sports teams and product names. Return JSON {"companies": [names]}.',
      outputSchema: z.object({ companies: z.array(z.string().min(1)) }),
      simulation: { skill: 'news.extract' },
    },
    {
      name: 'analyst',
      description:
        'Predicts, for each company in an article, whether its stock price will increase, decrease or stay.',
      instructions:
        'For each company in the article (use the extractor’s list when you have it), predict whether its stock price will increase, decrease or stay, with a one-sentence reason grounded in the article. Return JSON {"companies": [{"name","direction","reason"}]}.',
      outputSchema: z.object({ companies: z.array(companyOutlookSchema) }),
      simulation: { skill: 'news.analyze' },
    },
    {
      name: 'editor',
      description:
        'Assembles the final structured report from the desk’s work, checking it against the article.',
      instructions:
        'Assemble the final report from the work so far, checking every claim against the article. If the article is not about business, "companies" is empty. Return JSON {"title","summary","isBusiness","companies":[{"name","direction","reason"}]}.',
      outputSchema: newsDeskOutputSchema,
      simulation: { skill: 'news.edit' },
    },
    {
      name: 'desk-chief',
      description:
        'Runs the desk in a conversation: hands the article to each specialist in turn, then writes the report.',
      instructions:
        'You run the news desk. Hand the article to the specialist whose work is still missing (summary and business classification always; companies and stock outlooks for business articles), one at a time, with the transfer tools. When the work is complete, answer with the final report as JSON {"title","summary","isBusiness","companies":[{"name","direction","reason"}]}, checked against the article.',
      outputSchema: newsDeskOutputSchema,
      handoffs: ['summarizer', 'classifier', 'extractor', 'analyst'],
      simulation: { skill: 'news.chief' },
    },
    {
      name: 'desk-manager',
      description:
        'Coordinates the desk under magentic: keeps the task and progress ledgers and writes the report.',
      instructions:
        'You coordinate a team of news specialists. Keep a task ledger (facts and a short plan) and, each round, a progress ledger that says whether the request is satisfied, whether the team is looping or progressing, who speaks next and what to ask them. Answer in the JSON schema requested each time; the final answer is the report.',
      simulation: { skill: 'news.manager' },
    },
  ],
  patterns: {
    sequential: { order: ['summarizer', 'classifier', 'extractor', 'analyst', 'editor'] },
    concurrent: { agents: ['summarizer', 'classifier', 'extractor', 'analyst'], aggregator: 'merge' },
    handoff: { entry: 'desk-chief', fallback: 'editor' },
    magentic: { manager: 'desk-manager', participants: ['summarizer', 'classifier', 'extractor', 'analyst'] },
    'group-chat': {
      mode: 'round-robin',
      participants: ['summarizer', 'classifier', 'extractor', 'analyst', 'editor'],
      manager: 'desk-manager',
      finalizer: 'editor',
      maxTurns: 5,
    },
    // The per-company prediction: the extractor lists the companies, the analyst runs once per company.
    map: { splitter: 'extractor', items: 'companies', worker: 'analyst', reducer: { agent: 'editor' } },
  },
};

export const newsDesk = teamDefinitionSchema.parse(definition);
