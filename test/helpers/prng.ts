/**
 * A seeded PRNG (mulberry32): the same seed gives the same numbers, so a failing randomized test
 * can be replayed from the seed it prints. Not for anything secret.
 */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [0, n) from `rnd`. */
export function randomInt (rnd: () => number, n: number): number {
  return Math.floor(rnd() * n)
}
