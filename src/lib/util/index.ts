export {writeFileAtomic, writeJsonAtomic, type AtomicWriteOptions} from './atomic-write.js'
export {formatDuration, parseDuration} from './duration.js'
export {canonicalJson, hashJson, sha256Hex} from './hash.js'
export {isSecretEnvName, redactText, redactValue, REDACTED} from './redact.js'
