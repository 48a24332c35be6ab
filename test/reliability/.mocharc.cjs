/* global module */
// The reliability suite (npm run test:reliability). RELIABILITY_SPEC=a,b narrows it to some files.
module.exports = {
  extension: ['ts'],
  'node-option': ['import=tsx'],
  require: ['test/helpers/init.ts', 'test/reliability/lib/hooks.ts'],
  spec: process.env.RELIABILITY_SPEC ? process.env.RELIABILITY_SPEC.split(',') : ['test/reliability/**/*.reliability.ts'],
  recursive: true,
  reporter: 'spec',
  timeout: 180000,
  'forbid-only': true,
}
