import type { EngineFailure } from '../realtime/engine.js'

/** What the operator should check, per cause: said in the log line of a failed GPT-Live call. */
export const LIVE_FAILURE_HINTS: Record<EngineFailure, string> = {
  unreachable: 'GPT-Live could not be reached: check OPENAI_BASE_URL / AZURE_OPENAI_ENDPOINT and the network',
  unauthorized: 'GPT-Live refused our key: check OPENAI_API_KEY',
  handshake: 'GPT-Live refused the connection: check the account\'s Live session limit (429) or OpenAI\'s status (5xx)',
  'config-refused': 'GPT-Live refused session.start: check OPENAI_LIVE_MODEL, OPENAI_VOICE, OPENAI_LIVE_DELEGATE_MODEL and TOOLS_FILE',
  closed: 'GPT-Live ended the session',
  stalled: 'GPT-Live stopped answering',
  'too-large': 'GPT-Live sent a message over the size limit'
}

/** Why GPT-Live may close a session on its own (session.closed's reason); the call cannot go on after any of them. */
export const CLOSED_REASONS: Record<string, string> = {
  expired: 'the session reached its time limit',
  content: 'a safety filter ended the session',
  connection_lost: 'GPT-Live lost the connection',
  remote_hangup: 'GPT-Live hung up'
}
