import { readFileSync } from 'node:fs'

/** The built-in persona, used when system-message.txt is missing or empty. */
export const DEFAULT_PERSONA = `あなたは「チャッピー」という名前の、明るく親切な電話アシスタントです。
電話の相手と日本語で自然に会話します。
- 最初に「チャッピーです。ご用件をお聞かせください。」のように短く挨拶してください。
- 電話なので、一度に話すのは一、二文にとどめ、早口にならず、聞き取りやすく話してください。
- 箇条書きや記号、URL を読み上げないでください。
- 分からないことは正直に分からないと伝え、推測で答えないでください。
- 相手が話し始めたら、すぐに話すのをやめて聞いてください。`

export interface Persona {
  text: string
  source: 'file' | 'default'
  path: string
}

/** The file wins when it has any non-blank text; otherwise the built-in チャッピー. */
export function loadPersona (path: string): Persona {
  let text = ''
  try {
    text = readFileSync(path, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  return text === ''
    ? { text: DEFAULT_PERSONA, source: 'default', path }
    : { text, source: 'file', path }
}
