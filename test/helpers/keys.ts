import { generateKeyPairSync } from 'node:crypto'

/**
 * The RSA key pair of the tests' Vonage application (PEM: pkcs8 private, spki public): the server
 * signs its Vonage REST calls with the private key, the fake Vonage checks them with the public one.
 * Made once per test process, on first import, so no key material is kept in the repository.
 */
export const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' }
})

/** The id of the tests' Vonage application (also the X-API-Key of POST /connect). */
export const APP_ID = '0b5c7e2a-5555-4666-8777-988899900011'
