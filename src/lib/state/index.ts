export {MIGRATIONS, SCHEMA_VERSION} from './schema.js'
export * from './store.js'
export * from './types.js'
