import type { ToolDefinition } from './types.js'

/**
 * Built-in end_call: the model says goodbye, then calls this. The line is
 * closed once the goodbye has played to the caller: at once when it was said
 * in the same response as the call, otherwise after one more response in which
 * the model is asked to say it.
 */
export function endCallTool (): ToolDefinition<{ reason?: string }> {
  return {
    name: 'end_call',
    description: 'Hang up the phone call. Use it when the conversation is over or the caller wants to end the call. ' +
      'Say a short goodbye first (e.g. 「お電話ありがとうございました。失礼いたします。」) and call this right after it in the same turn; ' +
      'the line is closed as soon as your goodbye has played.',
    parameters: {
      type: 'object',
      properties: {
        reason: { type: 'string', description: 'Why the call ends, in a few words (for the call record), e.g. "caller said goodbye".' }
      },
      additionalProperties: false
    },
    // Waits for the end of the model's current response, which is generated faster than it plays.
    timeoutMs: 15_000,
    async handler (args, ctx) {
      const response = await ctx.responseDone()
      if (response?.status === 'cancelled' && response.reason === 'turn_detected') {
        // The caller spoke over the goodbye: the model is already answering them.
        ctx.noReply()
        return { ok: false, error: 'interrupted', message: 'The caller started speaking, so the call was not ended. Listen to them; call end_call again when the conversation is over.' }
      }
      ctx.endCall(args.reason ?? '')
      if (response?.spoke === true) {
        ctx.noReply()
        return { ok: true, message: 'The call ends once your goodbye has played.' }
      }
      return { ok: true, message: 'Say a short goodbye to the caller now. The call ends as soon as you finish.' }
    }
  }
}
