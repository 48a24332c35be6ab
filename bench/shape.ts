/** The benchmark's request: a Claude-Code-shaped /v1/messages body (about 22 KB) and Claude Code 2.0.77's headers. */

/** Long system prompt with cache_control, 11 tools, one user turn; keys in the order Claude Code sends them. */
export function claudeCodeBody(stream: boolean): string {
  const tools = Array.from({length: 11}, (_, i) => ({
    name: `Tool${i}`,
    description: `Tool number ${i}. `.repeat(40),
    input_schema: {type: 'object', properties: {path: {type: 'string', description: 'A path'}, limit: {type: 'number'}}, required: ['path']},
  }))
  // Claude Code 2.0.77's key order (claude-code-traffic.md §1): `stream` comes last, after the big values.
  return JSON.stringify({
    model: 'claude-sonnet-4-5-20250929',
    messages: [{role: 'user', content: [{type: 'text', text: 'Summarise the repository layout.'}]}],
    system: [
      {type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: {type: 'ephemeral'}},
      {type: 'text', text: 'You are an interactive CLI tool that helps users with software engineering tasks. '.repeat(150)},
    ],
    tools,
    metadata: {user_id: 'user_bench_session_0000'},
    max_tokens: 32000,
    stream,
  })
}

export const benchHeaders: Record<string, string> = {
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
  'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
  'x-api-key': 'sk-ant-bench-not-a-real-key',
  'x-app': 'cli',
  'user-agent': 'claude-cli/2.0.77 (external, sdk-cli)',
}
