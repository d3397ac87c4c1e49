/**
 * Reading the service's keys from where the command line takes them: the secret from
 * `--secret-file` (or ROOMMESH_SECRET; a `--secret` flag shows in `ps`, so it is warned about),
 * at least 32 bytes; a JWK inline (`{…}`) or from a file (the issuer's key, the signing key).
 */
import { readFileSync } from 'node:fs';
import type { JsonWebKey } from 'node:crypto';

/** The shortest secret accepted: HS256 wants at least 32 bytes of randomness. */
export const MIN_SECRET_BYTES = 32;

/** Why a secret is too weak to sign tokens with, if it is. */
export function secretWeakness(secret: string | Uint8Array | undefined): string | undefined {
  if (secret === undefined) return undefined;
  const bytes = typeof secret === 'string' ? Buffer.byteLength(secret) : secret.length;
  if (bytes >= MIN_SECRET_BYTES) return undefined;
  return `the secret is ${bytes} byte${bytes === 1 ? '' : 's'} long: anyone who guesses it can mint tokens for any room and name. Use at least ${MIN_SECRET_BYTES} random bytes, e.g. \`openssl rand -base64 32\``;
}

/**
 * The secret from `--secret`, `--secret-file` or ROOMMESH_SECRET (in that order of choice: a
 * flag, else the environment); throws when it is too short or both flags are given. `warn`
 * hears of a secret passed as a flag, which other users of the machine can read with `ps`.
 */
export function readSecret(flags: { secret?: string | undefined; secretFile?: string | undefined }, env: Record<string, string | undefined>, warn: (message: string) => void): string | undefined {
  if (flags.secret !== undefined && flags.secretFile !== undefined) throw new Error('choose --secret or --secret-file, not both');
  const file = flags.secretFile ?? (flags.secret === undefined ? env['ROOMMESH_SECRET_FILE'] : undefined);
  let secret: string | undefined;
  if (file !== undefined) {
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new Error(`cannot read the secret file ${file}: ${(error as Error).message}`);
    }
  } else {
    secret = flags.secret ?? env['ROOMMESH_SECRET'];
    if (flags.secret !== undefined) warn('--secret shows in `ps` to every user of this machine; prefer --secret-file or ROOMMESH_SECRET');
  }
  if (secret === '') secret = undefined;
  const weak = secretWeakness(secret);
  if (weak !== undefined) throw new Error(weak);
  return secret;
}

/** A JWK given inline (text starting with `{`) or as the path of a file holding one; throws with what is wrong. */
export function readJwk(value: string, what: string): JsonWebKey {
  let text = value.trim();
  if (!text.startsWith('{')) {
    try {
      text = readFileSync(text, 'utf8');
    } catch (error) {
      throw new Error(`${what}: cannot read ${value}: ${(error as Error).message}`);
    }
  }
  try {
    const jwk: unknown = JSON.parse(text);
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new Error('not an object');
    return jwk as JsonWebKey;
  } catch {
    throw new Error(`${what} must be a JWK (JSON, as \`roommesh keys\` prints it), or the path of a file holding one`);
  }
}
