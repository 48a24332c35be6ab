import {expect} from 'chai'
import {computeCost, formatMicros, mergeStreamUsage, usageFromAnthropic, usageFromOllama, usageFromOpenAI, type CostInput} from '../../src/llm_gateway/cost.js'
import {isDeepSeekPeak, knownUnpriced, PricingConfigError, PricingTable} from '../../src/llm_gateway/pricing.js'
import type {Usage} from '../../src/llm_gateway/record.js'

const table = new PricingTable()
const WED_PEAK = Date.parse('2026-11-25T02:30:00Z') // Wednesday, 10:30 Beijing
const WED_OFF_PEAK = Date.parse('2026-11-25T12:00:00Z') // Wednesday, 20:00 Beijing
const SAT_MORNING = Date.parse('2026-11-28T02:30:00Z') // Saturday: off-peak all day

function usage(input: number, output: number, cacheWrite = 0, cacheRead = 0, split?: {w5m?: number; w1h?: number}): Usage {
  const u: Usage = {input_tokens: input, output_tokens: output, cache_creation_input_tokens: cacheWrite, cache_read_input_tokens: cacheRead}
  if (split?.w5m !== undefined) u.cache_creation_5m_input_tokens = split.w5m
  if (split?.w1h !== undefined) u.cache_creation_1h_input_tokens = split.w1h
  return u
}

function input(model: string, u: Usage | null, extra: Partial<CostInput> = {}): CostInput {
  return {provider: 'anthropic', provider_type: 'anthropic', model_served: model, model_requested: model, usage: u, usage_missing: u === null, received_at: WED_PEAK, status: 200, ...extra}
}

describe('evidence/cost: per-request cost in micro-dollars (wire-format.md 4 and 5)', () => {
  it('checklist 22: Fixture B usage on Sonnet 4.6 = (412*3 + 1800*3.75 + 9000*0.30 + 87*15)/1e6 = $0.011991', () => {
    const raw = {input_tokens: 412, cache_creation_input_tokens: 1800, cache_read_input_tokens: 9000, cache_creation: {ephemeral_5m_input_tokens: 1800, ephemeral_1h_input_tokens: 0}, output_tokens: 87, service_tier: 'standard'}
    const c = computeCost(input('claude-sonnet-4-6', usageFromAnthropic(raw)), table)
    expect(c.micros).to.equal(1236 + 6750 + 2700 + 1305)
    expect(c.micros).to.equal(11991)
    expect(c.status).to.equal('priced')
    expect(c.pricing).to.equal('claude-sonnet-4-6@1970-01-01')
    expect(formatMicros(c.micros as number)).to.equal('0.011991')
  })

  it('text only: Haiku 4.5 (dated id) 1000 in / 500 out = 1000*1 + 500*5 = 3500 micro-dollars (not Haiku 3.5 rates)', () => {
    const c = computeCost(input('claude-haiku-4-5-20251001', usage(1000, 500)), table)
    expect(c.micros).to.equal(3500)
  })

  it('Opus 4.5 is priced at $5/$25, not at Opus 4.1 rates (the baseline defect)', () => {
    expect(computeCost(input('claude-opus-4-5-20251101', usage(1000, 1000)), table).micros).to.equal(1000 * 5 + 1000 * 25)
    expect(computeCost(input('claude-opus-4-1-20250805', usage(1000, 1000)), table).micros).to.equal(1000 * 15 + 1000 * 75)
  })

  it('cache writes 5m and 1h: each TTL at its own rate, the total never charged on top of the split', () => {
    // Opus 4.5: 100*5 + 1000*6.25 + 2000*10 + 200*25 = 500 + 6250 + 20000 + 5000
    const c = computeCost(input('claude-opus-4-5-20251101', usage(100, 200, 3000, 0, {w5m: 1000, w1h: 2000})), table)
    expect(c.micros).to.equal(31750)
    // Only the total reported (no split): all of it is 5-minute writes. 100*5 + 3000*6.25 + 200*25
    expect(computeCost(input('claude-opus-4-5-20251101', usage(100, 200, 3000)), table).micros).to.equal(500 + 18750 + 5000)
    // Only the 1h part reported: the rest of the total is 5m. 2000*10 + 1000*6.25 + 100*5 + 200*25
    expect(computeCost(input('claude-opus-4-5-20251101', usage(100, 200, 3000, 0, {w1h: 2000})), table).micros).to.equal(31750)
  })

  it('cache reads: Sonnet 4.5 50 in / 100000 read / 1000 out = 150 + 30000 + 15000', () => {
    expect(computeCost(input('claude-sonnet-4-5-20250929', usage(50, 1000, 0, 100000)), table).micros).to.equal(45150)
  })

  it('long context: Sonnet 4.5 above 200K prompt tokens bills the whole request at $6 / $22.50 (cache rates scaled)', () => {
    // prompt = 150000 + 40000 + 20000 = 210000 > 200000
    const long = computeCost(input('claude-sonnet-4-5-20250929', usage(150000, 2000, 40000, 20000)), table)
    expect(long.micros).to.equal(150000 * 6 + 40000 * 7.5 + 20000 * 0.6 + 2000 * 22.5)
    expect(long.micros).to.equal(1257000)
    expect(long.tier).to.equal('long_context')
    // exactly 200000 is not above the threshold: standard rates
    const edge = computeCost(input('claude-sonnet-4-5-20250929', usage(200000, 1000)), table)
    expect(edge.micros).to.equal(200000 * 3 + 1000 * 15)
    expect(edge.tier).to.equal('standard')
    // Sonnet 4 has the tier too; Sonnet 4.6 lists 1M context at the standard price
    expect(computeCost(input('claude-sonnet-4-20250514', usage(300000, 0)), table).micros).to.equal(300000 * 6)
    expect(computeCost(input('claude-sonnet-4-6', usage(300000, 0)), table).micros).to.equal(300000 * 3)
  })

  it('checklist 23: DeepSeek flash 100K hit / 20K miss / 5K out = $0.0126 at peak, $0.0063 off-peak, by request timestamp', () => {
    const ds = (at: number): CostInput => ({...input('deepseek-flash', usage(20000, 5000, 0, 100000)), provider: 'deepseek', provider_type: 'deepseek', received_at: at})
    const peak = computeCost(ds(WED_PEAK), table)
    expect(peak.micros).to.equal(100000 * 0.006 + 20000 * 0.3 + 5000 * 1.2)
    expect(peak.micros).to.equal(12600)
    expect(peak.tier).to.equal('peak')
    const off = computeCost(ds(WED_OFF_PEAK), table)
    expect(off.micros).to.equal(6300)
    expect(off.tier).to.equal('off_peak')
    expect(computeCost(ds(SAT_MORNING), table).micros).to.equal(6300)
    // Before the 2026-08-16 16:00 UTC switch the flat V4-Flash price applied: 100000*0.0028 + 20000*0.14 + 5000*0.28
    expect(computeCost({...ds(Date.parse('2026-08-03T02:30:00Z')), model_served: 'deepseek-v4-flash'}, table).micros).to.equal(280 + 2800 + 1400)
  })

  it('DeepSeek peak windows: 01:00-04:00 and 06:00-10:00 UTC on weekdays, boundaries included at the start only', () => {
    const at = (iso: string): boolean => isDeepSeekPeak(Date.parse(iso))
    expect(at('2026-11-25T00:59:59Z')).to.equal(false)
    expect(at('2026-11-25T01:00:00Z')).to.equal(true)
    expect(at('2026-11-25T03:59:59Z')).to.equal(true)
    expect(at('2026-11-25T04:00:00Z')).to.equal(false)
    expect(at('2026-11-25T06:00:00Z')).to.equal(true)
    expect(at('2026-11-25T09:59:59Z')).to.equal(true)
    expect(at('2026-11-25T10:00:00Z')).to.equal(false)
    expect(at('2026-11-29T07:00:00Z')).to.equal(false) // Sunday
  })

  it('DeepSeek cache writes carry no surcharge: billed as cache misses', () => {
    const c = computeCost({...input('deepseek-v4-pro', usage(1000, 0, 500)), provider: 'deepseek', provider_type: 'deepseek', received_at: WED_PEAK}, table)
    expect(c.micros).to.equal(1500 * 1.32)
  })

  it('Sonnet 5 / 5.5 at $2 / $10, cache read $0.20 (Sonnet 5.5: $0.10 from 2026-10-07), writes $2.50 / $4 per MTok', () => {
    const u = usage(1000, 2000, 700, 40_000, {w5m: 300, w1h: 400})
    // micro-dollars = tokens x USD/MTok / 1e6 x 1e6 = tokens x USD/MTok
    const at = (read: number): number => 1000 * 2 + 300 * 2.5 + 400 * 4 + 40_000 * read + 2000 * 10
    for (const model of ['claude-sonnet-5', 'claude-sonnet-5-20261001', 'claude-sonnet-5@20261001']) {
      const c = computeCost(input(model, u), table)
      expect(c.micros, model).to.equal(at(0.2))
      expect(c.pricing, model).to.equal('claude-sonnet-5@1970-01-01')
    }
    const before = computeCost(input('claude-sonnet-5-5', u, {received_at: Date.parse('2026-10-06T23:59:59Z')}), table)
    expect(before.micros).to.equal(at(0.2))
    expect(before.pricing).to.equal('claude-sonnet-5-5@1970-01-01')
    const after = computeCost(input('claude-sonnet-5-5', u, {received_at: Date.parse('2026-10-07T00:00:00Z')}), table)
    expect(after.micros).to.equal(at(0.1))
    expect(after.pricing).to.equal('claude-sonnet-5-5@2026-10-07')
  })

  it('a minor version after a table id is another model: claude-sonnet-5-6 does not borrow Sonnet 5; overrides still cover a family prefix', () => {
    for (const model of ['claude-sonnet-5-6', 'claude-sonnet-5-1@20270101', 'claude-haiku-4-5-1']) {
      expect(computeCost(input(model, usage(10, 10)), table).status, model).to.equal('unpriced')
    }
    const over = new PricingTable({overrides: {'claude-sonnet-5': {inputPerMillion: 1, outputPerMillion: 1}}})
    expect(computeCost(input('claude-sonnet-5-6', usage(10, 10)), over).pricing).to.equal('override:claude-sonnet-5')
  })

  it('current models without a complete rate card in the reference stay unpriced and say what is known', () => {
    for (const model of ['claude-opus-5-5', 'claude-opus-5', 'claude-fable-5', 'claude-fable-5-1', 'claude-fable-5-2', 'claude-haiku-5-5', 'claude-mythos-5', 'claude-mythos-5-1', 'claude-mythos-5-2', 'claude-mythos-preview']) {
      expect(computeCost(input(model, usage(10, 10)), table).status, model).to.equal('unpriced')
      expect(knownUnpriced(model), model).to.be.a('string')
    }
    expect(knownUnpriced('claude-opus-5-5')).to.contain('$4')
    expect(knownUnpriced('claude-sonnet-5')).to.equal(null)
  })

  it('unknown model: cost_status "unpriced" with a null cost, never a silent 0; no family-price guessing', () => {
    for (const model of ['mystery-model-9', 'claude-opus-4-10', 'claude-opus-5-5']) {
      const c = computeCost(input(model, usage(1000, 1000)), table)
      expect(c.status, model).to.equal('unpriced')
      expect(c.micros, model).to.equal(null)
    }
  })

  it('checklist 24: Ollama costs $0 with the token counts kept', () => {
    const c = computeCost({...input('qwen2.5-coder', usageFromOllama({prompt_eval_count: 321, eval_count: 45})), provider: 'ollama', provider_type: 'ollama'}, table)
    expect(c.micros).to.equal(0)
    expect(c.status).to.equal('free')
    expect(c.usage.input_tokens).to.equal(321)
    expect(c.usage.output_tokens).to.equal(45)
  })

  it('stream that ended without usage: usage_missing, estimated from the streamed text and the request size', () => {
    const response = JSON.stringify({type: 'message', role: 'assistant', content: [{type: 'text', text: 'x'.repeat(400)}]})
    const c = computeCost(input('claude-sonnet-4-6', null, {request_body: Buffer.alloc(2000, 'a'), response_body: response}), table)
    expect(c.status).to.equal('estimated')
    expect(c.usageEstimated).to.equal(true)
    expect(c.usage.input_tokens).to.equal(500) // 2000 bytes / 4
    expect(c.usage.output_tokens).to.equal(100) // 400 characters / 4
    expect(c.micros).to.equal(500 * 3 + 100 * 15)
  })

  it('stream cut after message_start: the partial usage is kept and the output raised to the streamed text', () => {
    const response = JSON.stringify({content: [{type: 'text', text: 'y'.repeat(80)}]})
    const c = computeCost(input('claude-sonnet-4-6', usage(412, 1), {usage_missing: true, response_body: response}), table)
    expect(c.status).to.equal('estimated')
    expect(c.usage.input_tokens).to.equal(412)
    expect(c.usage.output_tokens).to.equal(20)
    expect(c.micros).to.equal(412 * 3 + 20 * 15)
  })

  it('an error response without usage cost nothing upstream: not_billed, 0', () => {
    const c = computeCost(input('claude-sonnet-4-6', null, {status: 429}), table)
    expect(c.status).to.equal('not_billed')
    expect(c.micros).to.equal(0)
  })

  it('rounds half up to whole micro-dollars once per request (no truncation bias)', () => {
    // Haiku 3 cache reads at $0.03/MTok: 16 tokens = 0.48, 17 tokens = 0.51 micro-dollars
    expect(computeCost(input('claude-3-haiku-20240307', usage(0, 0, 0, 16)), table).micros).to.equal(0)
    expect(computeCost(input('claude-3-haiku-20240307', usage(0, 0, 0, 17)), table).micros).to.equal(1)
    // $0.003625/MTok x 1000 tokens = 3.625 micro-dollars -> 4 (computed exactly, not 3.6249999...)
    expect(computeCost({...input('deepseek-v4-pro', usage(0, 0, 0, 1000)), received_at: Date.parse('2026-07-01T00:00:00Z')}, table).micros).to.equal(4)
  })

  it('pricingOverrides win over the table; longest override prefix wins; absent cache rates default to the input rate', () => {
    const t = new PricingTable({overrides: {claude: {inputPerMillion: 1, outputPerMillion: 1}, 'claude-sonnet-4-6': {inputPerMillion: 2, outputPerMillion: 10}}})
    const c = computeCost(input('claude-sonnet-4-6', usage(1000, 100, 500, 2000)), t)
    expect(c.micros).to.equal(1000 * 2 + 500 * 2 + 2000 * 2 + 100 * 10)
    expect(c.pricing).to.equal('override:claude-sonnet-4-6')
    expect(computeCost(input('claude-haiku-4-5', usage(1000, 0)), t).pricing).to.equal('override:claude')
    const split = new PricingTable({overrides: {'my-model': {inputPerMillion: 1, outputPerMillion: 2, cacheWritePerMillion: 3, cacheWrite1hPerMillion: 4, cacheReadPerMillion: 0.5}}})
    expect(computeCost(input('my-model', usage(10, 10, 30, 100, {w5m: 10, w1h: 20})), split).micros).to.equal(10 * 1 + 10 * 3 + 20 * 4 + 100 * 0.5 + 10 * 2)
  })

  it('Azure deployments use the provider pricing block', () => {
    const t = new PricingTable({providerPricing: {'azure-east': {inputPerMillion: 1.1, outputPerMillion: 4.4, cacheReadPerMillion: 0.11}}})
    const c = computeCost({...input('gpt-5.1-codex-mini', usage(1000, 500, 0, 2000)), provider: 'azure-east', provider_type: 'azure'}, t)
    expect(c.micros).to.equal(1100 + 2200 + 220)
    expect(c.pricing).to.equal('provider:azure-east')
    expect(computeCost({...input('gpt-5.1-codex-mini', usage(1000, 500)), provider: 'azure-west', provider_type: 'azure'}, t).status).to.equal('unpriced')
  })

  it('bad price configuration fails with a message naming the field', () => {
    expect(() => new PricingTable({overrides: {x: {inputPerMillion: -1, outputPerMillion: 1}}})).to.throw(PricingConfigError, 'costTracking.pricingOverrides["x"].inputPerMillion must be a non-negative number')
    expect(() => new PricingTable({overrides: {x: {inputPerMillion: 1}}})).to.throw(PricingConfigError, 'outputPerMillion is missing')
    expect(() => new PricingTable({providerPricing: {az: 'cheap'}})).to.throw(PricingConfigError, 'providers.az.pricing must be an object')
  })

  it('cost tracking disabled: cost null with status "disabled"', () => {
    const c = computeCost(input('claude-sonnet-4-6', usage(1, 1)), table, {enabled: false})
    expect(c).to.include({micros: null, status: 'disabled'})
  })

  describe('usage parsing', () => {
    it('streams: message_start usage, then every non-null field of message_delta replaces it', () => {
      const start = usageFromAnthropic({input_tokens: 412, cache_creation_input_tokens: 1800, cache_read_input_tokens: 9000, output_tokens: 1})
      const merged = mergeStreamUsage(start, {output_tokens: 87, input_tokens: null})
      expect(merged).to.deep.equal({input_tokens: 412, output_tokens: 87, cache_creation_input_tokens: 1800, cache_read_input_tokens: 9000})
      expect(computeCost(input('claude-sonnet-4-6', merged), table).micros).to.equal(11991)
    })

    it('OpenAI chat usage: input = prompt - cached (clamped), cached -> cache reads, reasoning inside completion', () => {
      expect(usageFromOpenAI({prompt_tokens: 1000, completion_tokens: 300, prompt_tokens_details: {cached_tokens: 600}, completion_tokens_details: {reasoning_tokens: 200}})).to.deep.equal({
        input_tokens: 400, output_tokens: 300, cache_creation_input_tokens: 0, cache_read_input_tokens: 600,
      })
      expect(usageFromOpenAI({input_tokens: 56, output_tokens: 25, input_tokens_details: {cached_tokens: 64}})?.input_tokens).to.equal(0)
    })

    it('DeepSeek OpenAI-format usage: miss -> input, hit -> cache reads', () => {
      expect(usageFromOpenAI({prompt_tokens: 120000, completion_tokens: 5000, prompt_cache_hit_tokens: 100000, prompt_cache_miss_tokens: 20000})).to.deep.equal({
        input_tokens: 20000, output_tokens: 5000, cache_creation_input_tokens: 0, cache_read_input_tokens: 100000,
      })
    })
  })
})
