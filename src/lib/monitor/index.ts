/** The monitor: health, live metrics and streaming probes sampled into the state store. */
export {runMonitor, sampleHealth, sampleMetrics, isUp, LIVE_METRICS_WINDOW} from './monitor.js'
export type {MonitorOptions, MonitorSummary, MonitorTick, LiveStatus, HealthSampleMetrics, MetricsSampleMetrics} from './monitor.js'
export {streamingProbe, PROBE_AGENT_TYPE, DEFAULT_PROBE_MODEL} from './probe.js'
export type {ProbeResult} from './probe.js'
