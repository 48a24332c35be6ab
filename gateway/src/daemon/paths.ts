import {mkdirSync} from 'node:fs'
import {homedir} from 'node:os'
import {isAbsolute, join, resolve} from 'node:path'

/** The daemon's home: `$CCO_HOME`, else `~/.cco`. Always absolute. */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.CCO_HOME
  if (fromEnv && fromEnv.trim() !== '') return isAbsolute(fromEnv) ? fromEnv : resolve(fromEnv)
  return join(homedir(), '.cco')
}

/** Creates the home (mode 0700) if missing. Existing directories keep their mode. */
export function ensureHome(home: string): void {
  mkdirSync(home, {recursive: true, mode: 0o700})
}

export const homePaths = (home: string) => ({
  pidFile: join(home, 'daemon.pid'),
  pidBackup: join(home, 'daemon.pid.bak'),
  pidCorrupt: join(home, 'daemon.pid.corrupt'),
  lockFile: join(home, 'daemon.pid.lock'),
  logFile: join(home, 'daemon.log'),
  flagsFile: join(home, 'config', 'daemon-config.json'),
  gatewayConfigFile: join(home, 'orchestra-config.json'),
  gatewayDir: join(home, 'gateway'),
})
