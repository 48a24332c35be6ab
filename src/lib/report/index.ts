/** The reporting layer: report data (the --json contract), Markdown/HTML renderers, and the communications. */
export * from './types.js'
export {availabilityOf, buildReport, type BuildReportInput, downsample, MAX_SERIES_POINTS, metricsFromSamples, phaseTitle, playbookObjectiveMs} from './build.js'
export {gatherGatewayEvidence, type GatewayEvidence, MAX_AUDIT_ROWS} from './gather.js'
export {renderMarkdown} from './markdown.js'
export {renderHtml} from './html.js'
export {esc} from './charts.js'
export {completionTime, type CommsKind, type CommsMessage, type CommsOptions, fillTemplate, findTemplate, knownIssues, measuredRollbackTime, renderComms} from './comms.js'
