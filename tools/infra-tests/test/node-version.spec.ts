import { readdirSync, readFileSync } from 'node:fs';
import { fromRoot } from '../src/lib/workspace';

/*
 * One Node for what is deployed and tested (the LTS the images run), and an honest floor for local machines:
 * package.json engines and @types/node name the oldest Node the code must run on, so an API newer than that
 * fails the typecheck instead of a developer's first run.
 */

const DEPLOYED_NODE_MAJOR = 22;
const SDK_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

const read = (...path: string[]): string => readFileSync(fromRoot(...path), 'utf8');
const dockerfiles = readdirSync(fromRoot('docker')).filter((name) => name.endsWith('.Dockerfile'));
const packageJson = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> };

describe('Node versions', () => {
  it.each(dockerfiles)('docker/%s builds and runs on the deployed Node LTS', (name) => {
    const images = [...read('docker', name).matchAll(/^FROM\s+(?:--platform=\S+\s+)?(\S+)/gm)].map((match) => match[1] ?? '');
    const nodeImages = images.filter((image) => image.startsWith('node:'));
    expect(nodeImages.length).toBeGreaterThan(0);
    for (const image of nodeImages) expect(image).toMatch(new RegExp(`^node:${DEPLOYED_NODE_MAJOR}-`));
  });

  it('CI tests and builds on the same Node as the images', () => {
    const versions = [...read('.github/workflows/ci.yml').matchAll(/^\s*node-version:\s*["']?([^"'\s]+)/gm)].map((match) => match[1]);
    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions)).toEqual(new Set([String(DEPLOYED_NODE_MAJOR)]));
  });

  it('engines keeps the local floor below the deployed major, and @types/node describes that floor', () => {
    const floor = /^>=\s*(\d+)\.(\d+)/.exec(packageJson.engines.node);
    expect(floor).not.toBeNull();
    const floorMajor = Number(floor?.[1]);
    expect(floorMajor).toBeLessThanOrEqual(DEPLOYED_NODE_MAJOR);
    expect(packageJson.devDependencies['@types/node']).toMatch(new RegExp(`^[~^]?${floorMajor}\\.`));
  });

  it("leaves the AWS SDK's Node-version warning on in the images: only local dev commands switch it off", () => {
    for (const name of dockerfiles) expect({ name, sets: read('docker', name).includes(SDK_WARNING_SWITCH) }).toEqual({ name, sets: false });
    // `npm run dev` runs Nx serve targets, which load it (the CLIs set it in tools/cli-args, tested there).
    expect(read('.env.serve')).toMatch(new RegExp(`^${SDK_WARNING_SWITCH}=true$`, 'm'));
  });
});
