import {expect} from 'chai'
import {type Json, ToolNameMap} from '../../src/llm_gateway/translate/common.js'
import {anthropicToChat, anthropicToResponses} from '../../src/llm_gateway/translate/request.js'
import {chatResponseToAnthropic, responsesResponseToAnthropic} from '../../src/llm_gateway/translate/response.js'

/** The wire-format reference §1.2 example (Claude Code-like), with an image and a stop sequence added. */
const claudeCodeLike: Json = {
  model: 'claude-sonnet-4-6',
  max_tokens: 32000,
  stream: true,
  system: [
    {type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.197'},
    {type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: {type: 'ephemeral'}},
  ],
  messages: [
    {role: 'user', content: [{type: 'text', text: 'List the files in this repo.'}, {type: 'image', source: {type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo='}}]},
    {
      role: 'assistant',
      content: [
        {type: 'thinking', thinking: 'I should run ls.', signature: 'EqQBCgIYAhIM'},
        {type: 'text', text: 'Running ls.'},
        {type: 'tool_use', id: 'toolu_01', name: 'Bash', input: {command: 'ls -la'}},
      ],
    },
    {
      role: 'user',
      content: [
        {type: 'tool_result', tool_use_id: 'toolu_01', content: 'README.md\nsrc\n', is_error: false},
        {type: 'text', text: 'Now summarise them.', cache_control: {type: 'ephemeral'}},
      ],
    },
  ],
  tools: [
    {name: 'Bash', description: 'Run a shell command', input_schema: {type: 'object', properties: {command: {type: 'string'}}, required: ['command']}, cache_control: {type: 'ephemeral'}},
    {type: 'web_search_20250305', name: 'web_search'},
  ],
  tool_choice: {type: 'auto', disable_parallel_tool_use: true},
  thinking: {type: 'enabled', budget_tokens: 4096},
  stop_sequences: ['STOP'],
  metadata: {user_id: 'user_3f2c'},
  context_management: {edits: []},
}

describe('request path: request translation', () => {
  describe('Anthropic -> OpenAI chat completions', () => {
    const {body} = anthropicToChat(claudeCodeLike, {model: 'gpt-5.1', flavor: 'azure', stream: true})
    const messages = body.messages as Json[]

    it('joins the system blocks into one system message, in order', () => {
      expect(messages[0]).to.deep.equal({role: 'system', content: "x-anthropic-billing-header: cc_version=2.1.197\n\nYou are Claude Code, Anthropic's official CLI for Claude."})
    })
    it('turns text + image into content parts with a data URL', () => {
      expect(messages[1]).to.deep.equal({
        role: 'user',
        content: [{type: 'text', text: 'List the files in this repo.'}, {type: 'image_url', image_url: {url: 'data:image/png;base64,iVBORw0KGgo='}}],
      })
    })
    it('turns assistant tool_use into tool_calls with JSON-string arguments and drops thinking (non-DeepSeek)', () => {
      expect(messages[2]).to.deep.equal({
        role: 'assistant',
        content: 'Running ls.',
        tool_calls: [{id: 'toolu_01', type: 'function', function: {name: 'Bash', arguments: '{"command":"ls -la"}'}}],
      })
    })
    it('emits tool results as tool messages before the user text of the same turn', () => {
      expect(messages[3]).to.deep.equal({role: 'tool', tool_call_id: 'toolu_01', content: 'README.md\nsrc\n'})
      expect(messages[4]).to.deep.equal({role: 'user', content: 'Now summarise them.'})
      expect(messages).to.have.length(5)
    })
    it('maps tools (custom only, Anthropic-only keys dropped), tool_choice, stop, max tokens, effort, user and stream options', () => {
      expect(body.tools).to.deep.equal([
        {type: 'function', function: {name: 'Bash', description: 'Run a shell command', parameters: {type: 'object', properties: {command: {type: 'string'}}, required: ['command']}}},
      ])
      expect(body.tool_choice).to.equal('auto')
      expect(body.parallel_tool_calls).to.equal(false)
      expect(body.stop).to.deep.equal(['STOP'])
      expect(body.max_completion_tokens).to.equal(32000)
      expect(body.max_tokens).to.equal(undefined)
      expect(body.reasoning_effort).to.equal('medium')
      expect(body.user).to.equal('user_3f2c')
      expect(body.stream_options).to.deep.equal({include_usage: true})
      expect(body.model).to.equal('gpt-5.1')
      for (const k of ['context_management', 'thinking', 'metadata', 'system', 'cache_control']) expect(body).to.not.have.property(k)
    })
    it('maps tool_choice any / tool / none', () => {
      const choice = (tc: Json) => anthropicToChat({...claudeCodeLike, tool_choice: tc}, {model: 'm', flavor: 'openai', stream: false}).body.tool_choice
      expect(choice({type: 'any'})).to.equal('required')
      expect(choice({type: 'none'})).to.equal('none')
      expect(choice({type: 'tool', name: 'Bash'})).to.deep.equal({type: 'function', function: {name: 'Bash'}})
    })
    it('marks an error tool_result in-band', () => {
      const {body: b} = anthropicToChat({model: 'x', max_tokens: 1, messages: [{role: 'user', content: [{type: 'tool_result', tool_use_id: 't', is_error: true, content: [{type: 'text', text: 'boom'}]}]}]}, {model: 'm', flavor: 'openai', stream: false})
      expect(b.messages).to.deep.equal([{role: 'tool', tool_call_id: 't', content: 'Error: boom'}])
    })
    it('DeepSeek: max_tokens, explicit thinking toggle, reasoning_content passed back on tool-call turns', () => {
      const {body: ds} = anthropicToChat(claudeCodeLike, {model: 'deepseek-flash', flavor: 'deepseek', stream: false})
      expect(ds.max_tokens).to.equal(32000)
      expect(ds.thinking).to.deep.equal({type: 'enabled'})
      expect(ds.reasoning_effort).to.equal('high')
      expect((ds.messages as Json[])[2]!.reasoning_content).to.equal('I should run ls.')
      const {body: off} = anthropicToChat({...claudeCodeLike, thinking: undefined}, {model: 'deepseek-flash', flavor: 'deepseek', stream: false})
      expect(off.thinking).to.deep.equal({type: 'disabled'})
    })
    it('shortens tool names over 64 characters consistently in tools and history', () => {
      const long = `mcp__server__${'x'.repeat(80)}`
      const {body: b, toolNames} = anthropicToChat(
        {model: 'x', max_tokens: 1, tools: [{name: long, input_schema: {type: 'object'}}], messages: [{role: 'assistant', content: [{type: 'tool_use', id: 't', name: long, input: {}}]}]},
        {model: 'm', flavor: 'openai', stream: false},
      )
      const short = ((b.tools as Json[])[0]!.function as Json).name as string
      expect(short).to.have.length(64)
      expect((((b.messages as Json[])[0]!.tool_calls as Json[])[0]!.function as Json).name).to.equal(short)
      expect(toolNames.restore(short)).to.equal(long)
    })
  })

  describe('Anthropic -> Responses API', () => {
    const {body} = anthropicToResponses(claudeCodeLike, {model: 'gpt-5.1-codex-mini', stream: true})
    it('puts the system prompt in instructions and history in typed input items, keeping order', () => {
      expect(body.instructions).to.equal("x-anthropic-billing-header: cc_version=2.1.197\n\nYou are Claude Code, Anthropic's official CLI for Claude.")
      expect(body.input).to.deep.equal([
        {role: 'user', content: [{type: 'input_text', text: 'List the files in this repo.'}, {type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo='}]},
        {role: 'assistant', content: [{type: 'output_text', text: 'Running ls.'}]},
        {type: 'function_call', call_id: 'toolu_01', name: 'Bash', arguments: '{"command":"ls -la"}'},
        {type: 'function_call_output', call_id: 'toolu_01', output: 'README.md\nsrc\n'},
        {role: 'user', content: [{type: 'input_text', text: 'Now summarise them.'}]},
      ])
    })
    it('flattens tools, maps max_output_tokens, reasoning, store:false and stream', () => {
      expect(body.tools).to.deep.equal([
        {type: 'function', name: 'Bash', description: 'Run a shell command', parameters: {type: 'object', properties: {command: {type: 'string'}}, required: ['command']}, strict: false},
      ])
      expect(body.tool_choice).to.equal('auto')
      expect(body.max_output_tokens).to.equal(32000)
      expect(body.reasoning).to.deep.equal({effort: 'medium', summary: 'auto'})
      expect(body.store).to.equal(false)
      expect(body.stream).to.equal(true)
      expect(body).to.not.have.property('temperature')
    })
  })

  describe('non-streamed responses -> Anthropic Message', () => {
    it('chat completion (wire-format §2.2) -> text + tool_use, tool_use stop reason, usage with cache split', () => {
      const t = chatResponseToAnthropic(
        {
          id: 'chatcmpl-Fx0001',
          object: 'chat.completion',
          choices: [{index: 0, message: {role: 'assistant', content: "I'll check the weather.", tool_calls: [{id: 'call_Fx0001', type: 'function', function: {name: 'get_weather', arguments: '{"city":"Paris"}'}}]}, finish_reason: 'tool_calls'}],
          usage: {prompt_tokens: 120, completion_tokens: 25, total_tokens: 145, prompt_tokens_details: {cached_tokens: 64}},
        },
        {model: 'claude-sonnet-4-6', toolNames: new ToolNameMap()},
      )
      expect(t.message).to.deep.include({
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-6',
        stop_reason: 'tool_use',
        stop_sequence: null,
        content: [{type: 'text', text: "I'll check the weather."}, {type: 'tool_use', id: 'call_Fx0001', name: 'get_weather', input: {city: 'Paris'}}],
        usage: {input_tokens: 56, cache_creation_input_tokens: 0, cache_read_input_tokens: 64, output_tokens: 25},
      })
      expect(t.message.id).to.match(/^msg_/)
    })
    it('puts reasoning first, maps content_filter to refusal and keeps unparsable arguments', () => {
      const t = chatResponseToAnthropic(
        {choices: [{message: {content: 'x', reasoning_content: 'why', tool_calls: [{id: 'c', function: {name: 'f', arguments: '{bad'}}]}, finish_reason: 'content_filter'}]},
        {model: 'm', toolNames: new ToolNameMap()},
      )
      expect((t.message.content as Json[]).map((b) => b.type)).to.deep.equal(['thinking', 'text', 'tool_use'])
      expect((t.message.content as Json[])[2]!.input).to.deep.equal({text: '{bad'})
      expect(t.stopReason).to.equal('refusal')
      expect(t.usage).to.equal(null)
    })
    it('Responses API body -> thinking, text, tool_use; incomplete(content_filter) -> refusal', () => {
      const t = responsesResponseToAnthropic(
        {
          status: 'completed',
          output: [
            {type: 'reasoning', summary: [{type: 'summary_text', text: 'plan'}]},
            {type: 'message', content: [{type: 'output_text', text: 'Hi'}]},
            {type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}'},
          ],
          usage: {input_tokens: 120, input_tokens_details: {cached_tokens: 64}, output_tokens: 25},
        },
        {model: 'claude-sonnet-4-6', toolNames: new ToolNameMap()},
      )
      expect(t.message.content).to.deep.equal([
        {type: 'thinking', thinking: 'plan', signature: ''},
        {type: 'text', text: 'Hi'},
        {type: 'tool_use', id: 'call_1', name: 'get_weather', input: {city: 'Paris'}},
      ])
      expect(t.stopReason).to.equal('tool_use')
      expect(t.usage).to.deep.equal({input_tokens: 56, cache_creation_input_tokens: 0, cache_read_input_tokens: 64, output_tokens: 25})
      expect(responsesResponseToAnthropic({status: 'incomplete', incomplete_details: {reason: 'content_filter'}, output: []}, {model: 'm', toolNames: new ToolNameMap()}).stopReason).to.equal('refusal')
    })
  })
})
