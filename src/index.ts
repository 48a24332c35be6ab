export {BaseCommand} from './base-command.js'
export * from './lib/errors.js'
