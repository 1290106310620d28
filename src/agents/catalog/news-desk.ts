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
  ],
  patterns: {
    sequential: { order: ['summarizer', 'classifier', 'extractor', 'analyst', 'editor'] },
    concurrent: { agents: ['summarizer', 'classifier', 'extractor', 'analyst'], aggregator: 'merge' },
  },
};

export const newsDesk = teamDefinitionSchema.parse(definition);
