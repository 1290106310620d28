import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolutionCategories } from '../support-desk-output.js';
import {
  assignedSplit,
  DatasetError,
  loadDataset,
  loadDatasetWith,
  type NewsCase,
  newsCaseSchema,
  parseDataset,
  type SupportCase,
  supportCaseSchema,
} from './schema.js';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const newsPath = here('./news-articles.jsonl');
const ticketsPath = here('./support-tickets.jsonl');
const words = (s: string) => s.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;

const newsDataset = await loadDataset(newsPath);
const ticketDataset = await loadDataset(ticketsPath);

describe('news-articles.jsonl', () => {
  const loaded = newsDataset;
  const cases = loaded.cases as NewsCase[];

  it('is detected as a news-desk dataset and every line validates', () => {
    expect(loaded.team).toBe('news-desk');
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it('has unique ids', () => {
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it('has articles of 80–250 words whose first line is the title', () => {
    for (const c of cases) {
      const n = words(c.text);
      expect(n, c.id).toBeGreaterThanOrEqual(80);
      expect(n, c.id).toBeLessThanOrEqual(250);
      expect(c.text.startsWith(`${c.expected.title}\n\n`), c.id).toBe(true);
    }
  });

  it('spreads business and non-business articles, company counts and directions', () => {
    const business = cases.filter((c) => c.expected.isBusiness);
    const other = cases.filter((c) => !c.expected.isBusiness);
    expect(business.length).toBeGreaterThanOrEqual(30);
    expect(other.length).toBeGreaterThanOrEqual(15);
    expect(business.every((c) => c.expected.companies.length >= 1 && c.expected.companies.length <= 4)).toBe(
      true,
    );
    expect(business.filter((c) => c.expected.companies.length >= 3).length).toBeGreaterThanOrEqual(3);
    expect(business.some((c) => c.expected.companies.length === 4)).toBe(true);
    const directions = business.flatMap((c) => c.expected.companies.map((co) => co.direction));
    for (const d of ['increase', 'decrease', 'stay'] as const) {
      expect(directions.filter((x) => x === d).length, d).toBeGreaterThanOrEqual(8);
    }
  });

  it('names every labelled company verbatim in the article text', () => {
    for (const c of cases) {
      for (const co of c.expected.companies) expect(c.text, `${c.id}: ${co.name}`).toContain(co.name);
    }
  });

  it('includes non-business articles that mention a company in passing', () => {
    const companyNames = new Set(cases.flatMap((c) => c.expected.companies.map((co) => co.name)));
    const distractors = cases.filter(
      (c) => !c.expected.isBusiness && [...companyNames].some((name) => c.text.includes(name)),
    );
    expect(distractors.length).toBeGreaterThanOrEqual(3);
  });
});

describe('support-tickets.jsonl', () => {
  const loaded = ticketDataset;
  const cases = loaded.cases as SupportCase[];

  it('is detected as a support-desk dataset and every line validates', () => {
    expect(loaded.team).toBe('support-desk');
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it('has unique ids and messages of 30–150 words', () => {
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    for (const c of cases) {
      expect(words(c.text), c.id).toBeGreaterThanOrEqual(30);
      expect(words(c.text), c.id).toBeLessThanOrEqual(150);
    }
  });

  it('covers every resolution category at least twice, roughly balanced across specialists', () => {
    for (const [specialist, categories] of Object.entries(resolutionCategories)) {
      const forSpecialist = cases.filter((c) => c.expected.specialist === specialist);
      expect(forSpecialist.length, specialist).toBeGreaterThanOrEqual(Math.floor(cases.length / 4));
      for (const category of categories) {
        expect(cases.filter((c) => c.expected.category === category).length, category).toBeGreaterThanOrEqual(
          2,
        );
      }
    }
  });
});

describe('the dev and test parts', () => {
  const groups = [
    {
      name: 'news-articles.jsonl',
      cases: newsDataset.cases as NewsCase[],
      label: (c: NewsCase) => String(c.expected.isBusiness),
    },
    {
      name: 'support-tickets.jsonl',
      cases: ticketDataset.cases as SupportCase[],
      label: (c: SupportCase) => c.expected.category,
    },
  ] as const;

  it.each(groups)(
    '$name follows the documented rule: per label, in file order, every third case from the second is dev',
    ({ cases, label }) => {
      const seen = new Map<string, number>();
      for (const c of cases as { id: string; split: string }[]) {
        const group = (label as (x: unknown) => string)(c);
        const index = seen.get(group) ?? 0;
        seen.set(group, index + 1);
        expect(c.split, c.id).toBe(assignedSplit(index));
      }
    },
  );

  it('keeps every kind of label in both parts', () => {
    const news = newsDataset.cases as NewsCase[];
    for (const part of ['dev', 'test'] as const) {
      const cases = news.filter((c) => c.split === part);
      expect(
        cases.some((c) => c.expected.isBusiness),
        part,
      ).toBe(true);
      expect(
        cases.some((c) => !c.expected.isBusiness),
        part,
      ).toBe(true);
      const directions = new Set(cases.flatMap((c) => c.expected.companies.map((co) => co.direction)));
      expect(directions.size, part).toBe(3);
    }
    const tickets = ticketDataset.cases as SupportCase[];
    for (const category of Object.values(resolutionCategories).flat()) {
      for (const part of ['dev', 'test'] as const) {
        expect(
          tickets.some((c) => c.split === part && c.expected.category === category),
          `${category} ${part}`,
        ).toBe(true);
      }
    }
    expect(news.filter((c) => c.split === 'dev')).toHaveLength(23);
    expect(tickets.filter((c) => c.split === 'dev')).toHaveLength(12);
  });
});

describe('parseDataset / loadDataset errors', () => {
  const good = JSON.stringify({
    id: 'ticket-001',
    split: 'test',
    text: 'x',
    expected: { specialist: 'billing', category: 'refund' },
  });

  it('names the file, line and field of a bad line', () => {
    const bad = JSON.stringify({
      id: 'ticket-002',
      split: 'dev',
      text: 'y',
      expected: { specialist: 'billing', category: 'bug' },
    });
    const run = () => parseDataset(`${good}\n\n${bad}\n`, 'tickets.jsonl', supportCaseSchema);
    expect(run).toThrow(DatasetError);
    expect(run).toThrow(/^tickets\.jsonl:3: expected\.category: "bug" is not a billing category/);
  });

  it('reports invalid JSON and duplicate ids with their line numbers', () => {
    expect(() => parseDataset(`${good}\n{oops`, 'f.jsonl', supportCaseSchema)).toThrow(
      /^f\.jsonl:2: \(line\): not valid JSON/,
    );
    expect(() => parseDataset(`${good}\n${good}`, 'f.jsonl', supportCaseSchema)).toThrow(
      /^f\.jsonl:2: id: duplicate id "ticket-001" \(first on line 1\)/,
    );
  });

  it('rejects news labels that contradict themselves', () => {
    const article = {
      id: 'news-001',
      split: 'dev',
      text: 'A title\n\nBody',
      expected: {
        title: 'A title',
        isBusiness: false,
        companies: [{ name: 'Acme', direction: 'up' }],
        summary: 's',
      },
    };
    expect(() => parseDataset(JSON.stringify(article), 'n.jsonl', newsCaseSchema)).toThrow(
      /^n\.jsonl:1: expected\.companies\.0\.direction: /,
    );
    article.expected.companies = [{ name: 'Acme', direction: 'increase' }];
    expect(() => parseDataset(JSON.stringify(article), 'n.jsonl', newsCaseSchema)).toThrow(
      /^n\.jsonl:1: expected\.companies: a non-business article lists no companies/,
    );
    const titled = { ...article, expected: { ...article.expected, title: 'Other', isBusiness: true } };
    expect(() => parseDataset(JSON.stringify(titled), 'n.jsonl', newsCaseSchema)).toThrow(
      /^n\.jsonl:1: expected\.title: must equal the text's first line/,
    );
  });

  it('loads from disk, with an explicit schema or by id prefix, and rejects unknown prefixes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-datasets-'));
    const ok = join(dir, 'ok.jsonl');
    await writeFile(ok, `${good}\n`);
    expect(await loadDatasetWith(ok, supportCaseSchema)).toHaveLength(1);
    const unknown = join(dir, 'unknown.jsonl');
    await writeFile(unknown, `\n${JSON.stringify({ id: 'case-1', text: 'x', expected: {} })}\n`);
    await expect(loadDataset(unknown)).rejects.toThrow(
      /unknown\.jsonl:2: id: must start with one of "news-", "ticket-"/,
    );
    await expect(loadDataset(join(dir, 'missing.jsonl'))).rejects.toMatchObject({ code: 'DATASET_INVALID' });
  });
});
