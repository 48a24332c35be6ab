/**
 * Anthropic Messages request -> OpenAI Chat Completions request and -> Responses API request
 * (wire-format reference §3.1 and §3.2). Unknown Anthropic-only fields are dropped.
 */
import {type ChatFlavor, type Json, ToolNameMap, effortFromThinking} from './common.js'

export interface TranslatedRequest {
  body: Json
  toolNames: ToolNameMap
}

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
}

function blocksOf(content: unknown): Json[] {
  if (typeof content === 'string') return [{type: 'text', text: content}]
  if (!Array.isArray(content)) return []
  const out: Json[] = []
  for (const b of content) {
    if (typeof b === 'string') out.push({type: 'text', text: b})
    else if (obj(b)) out.push(b as Json)
  }
  return out
}

/** System prompt (string or text blocks) as one string; block order kept, joined by blank lines. */
export function systemText(system: unknown): string {
  if (typeof system === 'string') return system
  return blocksOf(system)
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('\n\n')
}

function imageUrl(block: Json): string | undefined {
  const src = obj(block.source)
  if (!src) return undefined
  if (src.type === 'base64' && typeof src.data === 'string') return `data:${String(src.media_type ?? 'image/png')};base64,${src.data}`
  if (src.type === 'url' && typeof src.url === 'string') return src.url
  return undefined
}

/** tool_result content (string or blocks) as text; is_error is marked in-band (OpenAI has no field for it). */
function toolResultText(block: Json): string {
  const c = block.content
  let text: string
  if (typeof c === 'string') text = c
  else {
    text = blocksOf(c)
      .map((b) => (b.type === 'text' ? String(b.text ?? '') : b.type === 'image' ? '[image]' : JSON.stringify(b)))
      .join('\n')
  }
  return block.is_error === true ? `Error: ${text}` : text
}

function customTools(tools: unknown): Json[] {
  if (!Array.isArray(tools)) return []
  // Server tools (web_search_*, bash_*, ...) carry a versioned type and have no OpenAI equivalent.
  return tools.filter((t): t is Json => !!obj(t) && typeof (t as Json).name === 'string' && ((t as Json).type === undefined || (t as Json).type === 'custom'))
}

function schemaOf(tool: Json): Json {
  return obj(tool.input_schema) ?? {type: 'object', properties: {}}
}

function textOfBlocks(blocks: Json[]): string {
  return blocks.filter((b) => b.type === 'text').map((b) => String(b.text ?? '')).join('')
}

function thinkingOfBlocks(blocks: Json[]): string {
  return blocks.filter((b) => b.type === 'thinking').map((b) => String(b.thinking ?? '')).join('')
}

export interface ChatRequestOptions {
  model: string
  flavor: ChatFlavor
  stream: boolean
}

export function anthropicToChat(req: Json, opts: ChatRequestOptions): TranslatedRequest {
  const toolNames = new ToolNameMap()
  const messages: Json[] = []
  const system = systemText(req.system)
  if (system) messages.push({role: 'system', content: system})

  for (const m of Array.isArray(req.messages) ? req.messages : []) {
    const msg = obj(m)
    if (!msg) continue
    const blocks = blocksOf(msg.content)
    if (msg.role === 'assistant') {
      const out: Json = {role: 'assistant', content: textOfBlocks(blocks) || null}
      const calls = blocks.filter((b) => b.type === 'tool_use').map((b) => ({
        id: String(b.id ?? ''),
        type: 'function',
        function: {name: toolNames.shorten(String(b.name ?? '')), arguments: JSON.stringify(b.input ?? {})},
      }))
      if (calls.length > 0) out.tool_calls = calls
      if (opts.flavor === 'deepseek') {
        // DeepSeek requires the reasoning of tool-call turns to be passed back.
        const reasoning = thinkingOfBlocks(blocks)
        if (reasoning) out.reasoning_content = reasoning
      }
      if (out.content === null && !out.tool_calls) out.content = ''
      messages.push(out)
    } else if (msg.role === 'system') {
      messages.push({role: 'system', content: textOfBlocks(blocks)})
    } else {
      // Tool results first (OpenAI needs tool messages right after the assistant tool_calls), then the user's own content.
      for (const b of blocks) {
        if (b.type === 'tool_result') messages.push({role: 'tool', tool_call_id: String(b.tool_use_id ?? ''), content: toolResultText(b)})
      }
      const parts: Json[] = []
      for (const b of blocks) {
        if (b.type === 'text') parts.push({type: 'text', text: String(b.text ?? '')})
        else if (b.type === 'image') {
          const url = imageUrl(b)
          if (url) parts.push({type: 'image_url', image_url: {url}})
        } else if (b.type === 'document') {
          const src = obj(b.source)
          if (src?.type === 'text' && typeof src.data === 'string') parts.push({type: 'text', text: src.data})
        }
      }
      if (parts.length === 0) continue
      const allText = parts.every((p) => p.type === 'text')
      messages.push({role: 'user', content: allText ? parts.map((p) => p.text as string).join('\n') : parts})
    }
  }

  const body: Json = {model: opts.model, messages}
  if (typeof req.max_tokens === 'number') {
    if (opts.flavor === 'azure' || opts.flavor === 'openai') body.max_completion_tokens = req.max_tokens
    else body.max_tokens = req.max_tokens
  }
  const tools = customTools(req.tools)
  if (tools.length > 0) {
    body.tools = tools.map((t) => {
      const fn: Json = {name: toolNames.shorten(String(t.name)), parameters: schemaOf(t)}
      if (typeof t.description === 'string') fn.description = t.description
      return {type: 'function', function: fn}
    })
    const choice = obj(req.tool_choice)
    if (choice && opts.flavor !== 'ollama') {
      if (choice.type === 'auto') body.tool_choice = 'auto'
      else if (choice.type === 'any') body.tool_choice = 'required'
      else if (choice.type === 'none') body.tool_choice = 'none'
      else if (choice.type === 'tool' && typeof choice.name === 'string') body.tool_choice = {type: 'function', function: {name: toolNames.shorten(choice.name)}}
      if (choice.disable_parallel_tool_use === true) body.parallel_tool_calls = false
    }
  }
  if (Array.isArray(req.stop_sequences) && req.stop_sequences.length > 0) body.stop = req.stop_sequences.slice(0, 4)
  if (opts.flavor === 'ollama' || opts.flavor === 'deepseek') {
    if (typeof req.temperature === 'number') body.temperature = req.temperature
    if (typeof req.top_p === 'number') body.top_p = req.top_p
  }
  const effort = effortFromThinking(req.thinking, req.output_config)
  if (opts.flavor === 'deepseek') {
    const t = obj(req.thinking)
    const on = t?.type === 'enabled' || t?.type === 'adaptive'
    // DeepSeek thinks by default: always say which mode is wanted.
    body.thinking = {type: on ? 'enabled' : 'disabled'}
    if (on && effort) body.reasoning_effort = effort === 'max' ? 'max' : effort === 'low' || effort === 'minimal' ? 'low' : 'high'
  } else if (effort) {
    body.reasoning_effort = effort
  }
  const format = obj(obj(req.output_config)?.format)
  if (format?.type === 'json_schema' && obj(format.schema)) {
    body.response_format = {type: 'json_schema', json_schema: {name: 'structured_output', schema: format.schema, strict: false}}
  }
  const userId = obj(req.metadata)?.user_id
  if (typeof userId === 'string' && (opts.flavor === 'azure' || opts.flavor === 'openai')) body.user = userId.slice(0, 64)
  if (opts.stream) {
    body.stream = true
    body.stream_options = {include_usage: true}
  }
  return {body, toolNames}
}

export interface ResponsesRequestOptions {
  model: string
  stream: boolean
}

export function anthropicToResponses(req: Json, opts: ResponsesRequestOptions): TranslatedRequest {
  const toolNames = new ToolNameMap()
  const input: Json[] = []
  for (const m of Array.isArray(req.messages) ? req.messages : []) {
    const msg = obj(m)
    if (!msg) continue
    const blocks = blocksOf(msg.content)
    if (msg.role === 'assistant') {
      // Keep block order: text runs become assistant messages, tool_use blocks function_call items.
      let text = ''
      const flush = (): void => {
        if (text) input.push({role: 'assistant', content: [{type: 'output_text', text}]})
        text = ''
      }
      for (const b of blocks) {
        if (b.type === 'text') text += String(b.text ?? '')
        else if (b.type === 'tool_use') {
          flush()
          input.push({type: 'function_call', call_id: String(b.id ?? ''), name: toolNames.shorten(String(b.name ?? '')), arguments: JSON.stringify(b.input ?? {})})
        }
      }
      flush()
    } else if (msg.role === 'system') {
      input.push({role: 'developer', content: textOfBlocks(blocks)})
    } else {
      for (const b of blocks) {
        if (b.type === 'tool_result') input.push({type: 'function_call_output', call_id: String(b.tool_use_id ?? ''), output: toolResultText(b)})
      }
      const parts: Json[] = []
      for (const b of blocks) {
        if (b.type === 'text') parts.push({type: 'input_text', text: String(b.text ?? '')})
        else if (b.type === 'image') {
          const url = imageUrl(b)
          if (url) parts.push({type: 'input_image', image_url: url})
        } else if (b.type === 'document') {
          const src = obj(b.source)
          if (src?.type === 'text' && typeof src.data === 'string') parts.push({type: 'input_text', text: src.data})
        }
      }
      if (parts.length > 0) input.push({role: 'user', content: parts})
    }
  }
  const body: Json = {model: opts.model, input}
  const system = systemText(req.system)
  if (system) body.instructions = system
  const tools = customTools(req.tools)
  if (tools.length > 0) {
    body.tools = tools.map((t) => {
      const tool: Json = {type: 'function', name: toolNames.shorten(String(t.name)), parameters: schemaOf(t), strict: false}
      if (typeof t.description === 'string') tool.description = t.description
      return tool
    })
    const choice = obj(req.tool_choice)
    if (choice) {
      if (choice.type === 'auto') body.tool_choice = 'auto'
      else if (choice.type === 'any') body.tool_choice = 'required'
      else if (choice.type === 'none') body.tool_choice = 'none'
      else if (choice.type === 'tool' && typeof choice.name === 'string') body.tool_choice = {type: 'function', name: toolNames.shorten(choice.name)}
      if (choice.disable_parallel_tool_use === true) body.parallel_tool_calls = false
    }
  }
  if (typeof req.max_tokens === 'number') body.max_output_tokens = req.max_tokens
  const effort = effortFromThinking(req.thinking, req.output_config)
  if (effort) body.reasoning = {effort, summary: 'auto'}
  const format = obj(obj(req.output_config)?.format)
  if (format?.type === 'json_schema' && obj(format.schema)) {
    body.text = {format: {type: 'json_schema', name: 'structured_output', schema: format.schema, strict: false}}
  }
  body.store = false
  if (opts.stream) body.stream = true
  return {body, toolNames}
}
