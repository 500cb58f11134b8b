import Ajv, { type ValidateFunction } from 'ajv';
import schema from '../../../schema/infra-sandbox.schema.json';

/** The options the validator is compiled with — here and, for the bundles, in esbuild.mjs. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true } as const;

/**
 * The validator of infra-sandbox.yaml. In the bundles (esbuild.mjs) this module is replaced by
 * ajv's standalone code for the same schema and options, generated at build time, so neither the
 * extension nor the CLI carries the ajv compiler; from sources (tests) it is compiled here.
 */
export function compileConfigSchema(): ValidateFunction {
  return new Ajv(AJV_OPTIONS).compile(schema);
}
