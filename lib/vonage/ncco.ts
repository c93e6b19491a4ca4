/** Vonage NCCO actions we emit. Field names are Vonage's, hence `content-type`. */
export type Rate = 8000 | 16000 | 24000

export interface TalkAction {
  action: 'talk'
  text: string
  language: string
  premium?: boolean
}

export interface WebsocketEndpoint {
  type: 'websocket'
  uri: string
  'content-type': `audio/l16;rate=${Rate}`
  headers?: Record<string, string>
  authorization?: { type: 'vonage' }
}

export interface ConnectAction {
  action: 'connect'
  eventType: 'synchronous'
  eventUrl: string[]
  eventMethod: 'POST'
  endpoint: [WebsocketEndpoint]
}

export type Ncco = Array<TalkAction | ConnectAction>

export interface MediaNccoOptions {
  publicHost: string
  /** The call's uuid, so a failed WebSocket leg can be tied back to its call. */
  callId: string
  token: string
  rate: Rate
  greeting: string
  /** Said before the greeting, e.g. that the call is recorded (empty = nothing). */
  notice?: string
  language: string
  /** Ask Vonage to sign the WebSocket handshake (with signed webhooks on). */
  signedHandshake: boolean
}

export function talk (text: string, language: string): TalkAction {
  return { action: 'talk', text, language, premium: false }
}

/** Notice and greeting, then the call's audio to our media WebSocket. */
export function mediaNcco (o: MediaNccoOptions): Ncco {
  const endpoint: WebsocketEndpoint = {
    type: 'websocket',
    uri: `wss://${o.publicHost}/media?token=${encodeURIComponent(o.token)}`,
    'content-type': `audio/l16;rate=${o.rate}`
  }
  if (o.signedHandshake) endpoint.authorization = { type: 'vonage' }
  const connect: ConnectAction = {
    action: 'connect',
    // Synchronous: if the WebSocket cannot be reached, Vonage asks /event what to do instead.
    eventType: 'synchronous',
    eventUrl: [`https://${o.publicHost}/event?leg=media&call=${encodeURIComponent(o.callId)}`],
    eventMethod: 'POST',
    endpoint: [endpoint]
  }
  // One talk action: the notice and the greeting are read as one passage, without a gap between them.
  const spoken = [o.notice ?? '', o.greeting].filter(t => t !== '').join('')
  return spoken === '' ? [connect] : [talk(spoken, o.language), connect]
}

export const BUSY_MESSAGE = 'ただいま大変混み合っております。恐れ入りますが、しばらくしてからおかけ直しください。'
export const UNAVAILABLE_MESSAGE = '申し訳ございません。ただいまAIアシスタントにおつなぎできません。しばらくしてからおかけ直しください。'
export const CLOSING_MESSAGE = '申し訳ございません。ただいまメンテナンス中のため、しばらくしてからおかけ直しください。'
/** Said when the server cannot check Vonage's signature (VONAGE_SIGNATURE_SECRET unset): the caller hears why the call ends, and no model session opens. */
export const NOT_READY_MESSAGE = '申し訳ございません。ただいまこの番号は準備中のため、おつなぎできません。'
