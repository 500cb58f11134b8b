export { CONFIG_FILE_NAME, findConfigUpward } from './find';
export { loadConfig } from './load';
export { formatProblem } from './format';
export type * from './types';
export { validateConfigText } from './validate';
