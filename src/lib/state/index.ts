export {CHAINED_TABLES, rowChainHash, rowHash, UNCHAINED_TABLES} from './row-chain.js'
export {MIGRATIONS, ROW_CHAIN_VERSION, SCHEMA_VERSION} from './schema.js'
export * from './store.js'
export * from './types.js'
