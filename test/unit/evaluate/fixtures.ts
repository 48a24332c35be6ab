import type {CriterionSpec, Measurement} from '../../../src/lib/evaluate/index.js'

export const WINDOW_START = '2026-01-01T00:00:00.000Z'
export const WINDOW_END = '2026-01-01T00:15:00.000Z'

export function spec(overrides: Partial<CriterionSpec> = {}): CriterionSpec {
  return {
    id: 'error_rate',
    title: 'Error rate below 0.1 %',
    source: 'gateway',
    metric: 'error_rate',
    statistic: 'ratio',
    window: '15m',
    operator: '<',
    threshold: 0.1,
    unit: '%',
    min_samples: 100,
    key: true,
    ...overrides,
  }
}

export function measurement(overrides: Partial<Measurement> = {}): Measurement {
  return {
    criterionId: 'error_rate',
    value: 0.05,
    samples: 2000,
    windowStart: WINDOW_START,
    windowEnd: WINDOW_END,
    windowElapsed: true,
    ...overrides,
  }
}
