import type {GatewayPlugin, GatewayPluginContext} from '../llm_gateway/server.js'
import type {GatewayConfig} from './config.js'
import type {DaemonStatus} from './control.js'
import type {DaemonFlags} from './flags.js'
import type {Logger} from './log.js'
import {registerPidFileField, type PidFieldValidator} from './pidfile.js'

/*
 * The one place where optional daemon modules are registered.
 *
 * Optional daemon modules (today only the legacy HTTP proxy) own everything about
 * themselves: their server, their PID file fields, their /daemon/status section, their
 * lines in `cco daemon status` and the launcher's route through them. The core only
 * calls the hooks below. Phase 3 of the cutover deletes gateway/src/proxy/ and the single
 * marked line in `daemonModules`; everything else compiles unchanged, and a daemon whose
 * flags still ask for the proxy says that no such module is installed.
 *
 * Gateway plugins: layers mounted on the LLM Gateway's HTTP server (routes + API handler).
 */

/** How the launcher reaches an LLM through a module (instead of the gateway). */
export type ModuleRoute =
  | {env: Record<string, string>; lines: string[]; warnings: string[]}
  | {errors: string[]}

export interface DaemonModuleContext {
  home: string
  flags: DaemonFlags
  /** The validated gateway config, or the defaults when it is invalid (then configError says why). */
  config: GatewayConfig
  configError: string | null
  log: Logger
  /** Sets this module's own PID file fields (null removes one). */
  updatePidFields(fields: Record<string, unknown>): void
}

export interface DaemonModuleInstance {
  /** Merged at the top level into GET /daemon/status (and `cco daemon status --json`). */
  status(): Record<string, unknown>
  close(): Promise<void>
}

export interface DaemonModule {
  /** Used in log lines ("legacy HTTP proxy"). */
  name: string
  /** The flag of config/daemon-config.json that turns the module on. */
  flag: keyof DaemonFlags
  /** PID file fields the module owns, each with its validator (see pidfile.ts). */
  pidFileFields: Record<string, PidFieldValidator>
  /** Called once at daemon start-up whatever the flag says (off: it only reports itself disabled). */
  start(ctx: DaemonModuleContext): Promise<DaemonModuleInstance>
  /** Extra lines for `cco daemon status`. */
  statusLines(status: DaemonStatus): string[]
  /**
   * The launcher's route through this module when the gateway is not used: `gatewayProblem`
   * is why the enabled gateway is unavailable (a fallback), or null when the gateway is disabled.
   */
  launchRoute(home: string, gatewayProblem: string | null): ModuleRoute
}

export const daemonModules: DaemonModule[] = [
  (await import('../proxy/index.js')).legacyProxyModule, // LEGACY PROXY: Phase 3 deletes this line and gateway/src/proxy/
]

for (const module of daemonModules) {
  for (const [field, validate] of Object.entries(module.pidFileFields)) registerPidFileField(field, validate)
}

/** The installed module that the given flag turns on, if any. */
export function moduleForFlag(flag: keyof DaemonFlags): DaemonModule | undefined {
  return daemonModules.find((m) => m.flag === flag)
}

export type GatewayPluginFactory = (ctx: GatewayPluginContext) => Promise<GatewayPlugin>

/** Gateway layers, mounted in order (their routes after the built-in ones; API handlers chained). */
export const gatewayPlugins: Array<() => Promise<GatewayPluginFactory>> = [
  // The request path (/v1/...) with its evidence (cost, audit log, JSON and Prometheus metrics).
  async () => (await import('../llm_gateway/plugin.js')).createLlmGatewayPlugin,
]
