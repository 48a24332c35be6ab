/** Keys whose values are secrets wherever they appear (headers, configs, payloads). */
const SECRET_KEY = /^(api[_-]?key|x-api-key|authorization|proxy-authorization|password|passwd|secret|client[_-]?secret|token|access[_-]?token|refresh[_-]?token|bearer|cookie)$/i
/** Values that look like provider keys or bearer tokens. */
const SECRET_VALUE = /(sk-[A-Za-z0-9_-]{12,}|Bearer\s+[A-Za-z0-9._~+/-]{8,}=*)/g

export const REDACTED = '[redacted]'

/** Mask key-like substrings in free text (command output, error messages). */
export function redactText(text: string, extraSecrets: string[] = []): string {
  let out = text.replace(SECRET_VALUE, REDACTED)
  for (const secret of extraSecrets) {
    if (secret.length >= 6) out = out.split(secret).join(REDACTED)
  }
  return out
}

/** Deep copy of a JSON-like value with secret-named keys and key-like strings masked. */
export function redactValue<T>(value: T): T {
  return redactInner(value) as T
}

function redactInner(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value)
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((item) => redactInner(item))
  if (value instanceof Date) return value
  const out: Record<string, unknown> = {}
  for (const [key, member] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && typeof member === 'string' && member.length > 0 ? REDACTED : redactInner(member)
  }
  return out
}

/** Names of environment variables that probably hold secrets. */
export function isSecretEnvName(name: string): boolean {
  return /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)/i.test(name)
}
