import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string | boolean>;
  env?: Record<string, string>;
  'working-directory'?: string;
}

interface Job {
  needs?: string | string[];
  steps: Step[];
  env?: Record<string, string>;
  defaults?: { run?: { 'working-directory'?: string } };
}

interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

function load(name: string): { text: string; workflow: Workflow } {
  const text = readFileSync(join(root, '.github', 'workflows', name), 'utf8');
  return { text, workflow: parse(text) as Workflow };
}

const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);

describe('.github/workflows/ci.yml', () => {
  const { workflow } = load('ci.yml');

  it('runs .ci/run on Node 20, 22 and 24 for pushes and pull requests', () => {
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    const all = steps(workflow);
    expect(all.some((s) => s.uses?.startsWith('actions/checkout@'))).toBe(true);
    const node = all.find((s) => s.uses?.startsWith('actions/setup-node@'));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
    expect(String(node?.with?.['node-version'])).toBe('${{ matrix.node }}');
    const matrix = (workflow.jobs.test as Job & { strategy?: { matrix?: { node?: string[] } } }).strategy
      ?.matrix;
    expect(matrix?.node).toEqual(['20', '22', '24']);
    expect(all.some((s) => s.run?.trim() === 'bash .ci/run')).toBe(true);
    // The system packages the suite needs (test/support/prerequisites.ts) are installed first.
    expect(all.some((s) => /apt-get install .*redis-server.*chromium/.test(s.run ?? ''))).toBe(true);
  });

  it('checks the Terraform formatting and schema', () => {
    const runs = steps(workflow).map((s) => s.run ?? '');
    expect(runs.some((r) => r.includes('terraform fmt -check'))).toBe(true);
    expect(runs.some((r) => r.includes('terraform validate'))).toBe(true);
  });
});

describe('.github/workflows/cd.yml', () => {
  const { text, workflow } = load('cd.yml');

  it('deploys pushes to main and version tags', () => {
    const push = workflow.on.push as { branches?: string[]; tags?: string[] };
    expect(push.branches).toContain('main');
    expect(push.tags?.length).toBeGreaterThan(0);
  });

  it('authenticates with OIDC from repository variables, with no stored secrets', () => {
    expect(workflow.permissions?.['id-token']).toBe('write');
    expect(text).not.toMatch(/\$\{\{\s*secrets\./);
    const login = steps(workflow).find((s) => s.uses?.startsWith('azure/login@'));
    const variable = (name: string) => `\${{ vars.${name} }}`;
    expect(login?.with).toEqual({
      'client-id': variable('AZURE_CLIENT_ID'),
      'tenant-id': variable('AZURE_TENANT_ID'),
      'subscription-id': variable('AZURE_SUBSCRIPTION_ID'),
    });
    expect(workflow.env?.ARM_USE_OIDC).toBe('true');
    for (const name of ['ARM_CLIENT_ID', 'ARM_TENANT_ID', 'ARM_SUBSCRIPTION_ID']) {
      expect(workflow.env?.[name]).toMatch(/^\$\{\{ vars\.AZURE_/);
    }
  });

  it('builds and pushes the image to ACR, then plans Terraform with that image tag', () => {
    const image = Object.entries(workflow.jobs).find(([, j]) =>
      j.steps.some((s) => /\baz acr build\b/.test(s.run ?? '')),
    );
    expect(image, 'a job running az acr build').toBeDefined();
    const [imageJob] = image!;
    const terraform = Object.values(workflow.jobs).find((j) =>
      j.steps.some((s) => /terraform plan/.test(s.run ?? '')),
    );
    expect(terraform?.needs).toContain(imageJob);
    expect(terraform?.defaults?.run?.['working-directory']).toBe('infra/terraform');
    expect(terraform?.env?.TF_VAR_image_tag).toContain(`needs.${imageJob}.outputs.tag`);
    const runs = terraform!.steps.map((s) => s.run ?? '');
    const init = runs.findIndex((r) => r.includes('terraform init'));
    const plan = runs.findIndex((r) => r.includes('terraform plan'));
    expect(init).toBeGreaterThanOrEqual(0);
    expect(init).toBeLessThan(plan);
    expect(runs[init]).toContain('use_oidc=true');
  });
});
