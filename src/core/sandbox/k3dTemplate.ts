/**
 * A k3d sandbox template: a folder with `k3d.yaml`, a k3d *Simple* config (k3d.io/v1alpha5; the
 * older v1alpha2…4 k3d migrates itself). The product passes the file to `k3d cluster create --config`
 * and reads only what it needs; k3d remains the judge of the rest. What is checked here is what
 * would otherwise fail late or silently: YAML syntax, apiVersion/kind, node counts and the timeout —
 * each problem reported with file:line (exit 2) before anything runs.
 */
import { join } from 'node:path';
import { isMap, isScalar, type Node } from 'yaml';
import { readYamlFile, templateError, type YamlFile } from './providerSupport';

export const K3D_TEMPLATE_FILE = 'k3d.yaml';
/** Used when the template sets no `options.k3d.timeout`. */
export const K3D_DEFAULT_TIMEOUT = '300s';

/** v1alpha5 is current; k3d v5 migrates the older ones itself when it reads them. */
const API_VERSIONS = ['k3d.io/v1alpha5', 'k3d.io/v1alpha4', 'k3d.io/v1alpha3', 'k3d.io/v1alpha2'];
const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;

export interface K3dTemplate {
  dir: string;
  /** Absolute path of k3d.yaml. */
  configFile: string;
  apiVersion: string;
  /** The k3s image, when pinned (it should be). */
  image?: string;
  servers: number;
  agents: number;
  /** Go duration for `--timeout`. */
  timeout: string;
}

export async function loadK3dTemplate(dir: string): Promise<K3dTemplate> {
  const configFile = join(dir, K3D_TEMPLATE_FILE);
  const y = await readYamlFile(configFile, 'k3d template');
  const what = 'k3d template';
  if (!isMap(y.doc.contents))
    throw templateError(y.place(y.doc.contents), `${what}: expected a k3d Simple config (a mapping)`);

  const apiVersion = scalar(y, ['apiVersion']);
  if (apiVersion === undefined) throw templateError(y.place(null), `${what}: apiVersion is missing (k3d.io/v1alpha5)`);
  if (!API_VERSIONS.includes(String(apiVersion))) {
    throw templateError(
      y.place(y.nodeAt(['apiVersion'])),
      `apiVersion: ${JSON.stringify(apiVersion)} is not a k3d Simple config version this product knows (${API_VERSIONS.join(', ')})`,
    );
  }
  const kind = scalar(y, ['kind']);
  if (typeof kind !== 'string' || kind.toLowerCase() !== 'simple') {
    throw templateError(
      y.place(y.nodeAt(['kind']) ?? null),
      `kind: ${kind === undefined ? 'missing' : JSON.stringify(kind)} — a sandbox template is a k3d "Simple" config`,
    );
  }

  const servers = count(y, 'servers', 1, 1);
  const agents = count(y, 'agents', 0, 0);
  const image = scalar(y, ['image']);
  if (image !== undefined && typeof image !== 'string') {
    throw templateError(
      y.place(y.nodeAt(['image'])),
      'image: expected an image reference such as rancher/k3s:v1.34.9-k3s1',
    );
  }

  const timeoutValue = scalar(y, ['options', 'k3d', 'timeout']);
  let timeout = K3D_DEFAULT_TIMEOUT;
  if (timeoutValue !== undefined) {
    if (typeof timeoutValue !== 'string' || !GO_DURATION.test(timeoutValue)) {
      throw templateError(
        y.place(y.nodeAt(['options', 'k3d', 'timeout'])),
        `options.k3d.timeout: ${JSON.stringify(timeoutValue)} is not a duration such as 120s or 5m`,
      );
    }
    timeout = timeoutValue;
  }
  return { dir, configFile, apiVersion: String(apiVersion), image, servers, agents, timeout };
}

function scalar(y: YamlFile, path: string[]): unknown {
  const node: Node | undefined = y.nodeAt(path);
  if (node === undefined) return undefined;
  return isScalar(node) ? node.value : node;
}

/** `servers`/`agents`: an integer ≥ min, or a `${VAR}` k3d expands from the environment. */
function count(y: YamlFile, key: string, min: number, fallback: number): number {
  const value = scalar(y, [key]);
  if (value === undefined) return fallback;
  if (typeof value === 'string' && value.startsWith('$')) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw templateError(y.place(y.nodeAt([key])), `${key}: expected an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}
