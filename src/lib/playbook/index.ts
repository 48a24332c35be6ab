/** The playbook layer: types, loader (YAML with file:line:col errors), check catalog and runbook renderer. */
export * from './types.js'
export {type CheckCatalog, catalogOf, KNOWN_CHECK_IDS, knownChecks} from './known-checks.js'
export {checkDuration, durationMs, humanDuration, parseDuration} from '../util/duration.js'
export {formatIssue, type PlaybookIssue} from './schema.js'
export {defaultPlaybookPath, displayPath, lintPlaybookFile, type LintResult, loadPlaybook, type LoadOptions, packageRoot, parsePlaybook, PlaybookError} from './loader.js'
export {placeholdersIn, thresholdRange} from './playbook-schema.js'
export {formatValue, renderRunbook, renderSummary, RUNBOOK_FORMATS, type RunbookFormat} from './render.js'
