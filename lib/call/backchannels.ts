/**
 * Japanese backchannels (aizuchi): what a listener says to show they are
 * listening, not to take the turn. The one list the bridge consults; a user
 * adds words with BACKCHANNEL_WORDS (comma-separated).
 *
 * Words are compared after normalisation (NFKC, katakana → hiragana, no
 * punctuation, spaces, long-vowel marks, small kana or repeated vowels), and a transcript
 * counts as a backchannel when it is made only of listed words, so 「はい、はい」
 * 「うんうん」 and 「ハーイ」 match without being listed, and 「はい、お願いします」 does not.
 */
export const DEFAULT_BACKCHANNELS: readonly string[] = [
  'はい', 'ええ', 'うん', 'ああ', 'ほう', 'へえ', 'ふうん', 'ふん', 'おお',
  'なるほど', 'そうですね', 'そうですか', 'そうなんですね', 'そうなんですか', 'そうなんだ',
  'そうそう', 'そう', 'そっか', 'そうか', 'たしかに', '確かに', 'ほんとう', 'ほんと', '本当',
  'うんうん', 'はいはい', 'ええええ', 'わかりました', '分かりました', 'わかります', '分かります',
  'りょうかい', '了解', '了解です', 'ですね', 'ですよね', 'いいですね', 'すごい',
  // English callers and mixed speech.
  'yes', 'yeah', 'yep', 'ok', 'okay', 'right', 'sure', 'uh-huh', 'uhhuh', 'mhm', 'mm-hmm', 'mmhmm', 'hmm', 'i see'
]

const KATAKANA_START = 0x30a1
const KATAKANA_END = 0x30f6
const KANA_OFFSET = 0x60
/** Punctuation, spaces, long-vowel marks and the small kana that only lengthen a sound. */
const DROPPED = /[\s\p{P}\p{S}ー〜～ぁぃぅぇぉっゃゅょゎ]/gu

/** Vowel of each plain kana, to fold lengthened sounds (へえ, ふうん) into short ones. */
const VOWEL = new Map<string, string>()
for (const [v, row] of Object.entries({ あ: 'あかさたなはまやらわがざだばぱ', い: 'いきしちにひみりぎじぢびぴ', う: 'うくすつぬふむゆるぐずづぶぷ', え: 'えけせてねへめれげぜでべぺ', お: 'おこそとのほもよろをごぞどぼぽ' })) {
  for (const k of row) VOWEL.set(k, v)
}

export function normalizeSpoken (text: string): string {
  let kana = ''
  for (const ch of text.normalize('NFKC').toLowerCase()) {
    const cp = ch.codePointAt(0)!
    kana += cp >= KATAKANA_START && cp <= KATAKANA_END ? String.fromCodePoint(cp - KANA_OFFSET) : ch
  }
  let out = ''
  let last = ''
  for (const ch of kana.replace(DROPPED, '')) {
    // A vowel repeating the one before only lengthens it: 「へえ」 is 「へぇー」 is 「へ」.
    if (VOWEL.get(ch) === ch && VOWEL.get(last) === ch) continue
    out += ch
    last = ch
  }
  return out
}

/** BACKCHANNEL_WORDS: words separated by commas (ASCII or Japanese 、，). */
export function parseWordList (s: string): string[] {
  return s.split(/[,、，]/).map(w => w.trim()).filter(w => w !== '')
}

export class Backchannels {
  readonly #words = new Set<string>()
  #longest = 0

  constructor (extra: readonly string[] = []) {
    for (const w of [...DEFAULT_BACKCHANNELS, ...extra]) {
      const n = normalizeSpoken(w)
      if (n === '') continue
      this.#words.add(n)
      this.#longest = Math.max(this.#longest, [...n].length)
    }
  }

  /** True when `text` is made only of backchannel words (an empty transcript is not: that is noise). */
  has (text: string): boolean {
    const chars = [...normalizeSpoken(text)]
    if (chars.length === 0) return false
    // reachable[i]: the first i characters split into listed words.
    const reachable = new Array<boolean>(chars.length + 1).fill(false)
    reachable[0] = true
    for (let i = 0; i < chars.length; i++) {
      if (!reachable[i]) continue
      for (let len = 1; len <= this.#longest && i + len <= chars.length; len++) {
        if (this.#words.has(chars.slice(i, i + len).join(''))) reachable[i + len] = true
      }
    }
    return reachable[chars.length] === true
  }
}
