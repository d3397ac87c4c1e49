/**
 * `roommesh-server`: the signaling service, for Node. {@link createSignalingServer} runs it;
 * {@link createToken} signs join tokens for a service started with a secret or an issuer key
 * ({@link generateTokenKeys}).
 * @module roommesh-server
 */
export { createSignalingServer, SERVER_DEFAULTS } from './server.js';
export type { CloseOptions, SignalingServer, SignalingServerOptions } from './server.js';
export { createToken, generateTokenKeys, keyThumbprint, verifyToken } from './auth.js';
export type { TokenIdentity, TokenKeys, TokenOptions, VerifyOptions } from './auth.js';
export { ERROR_CODES, RoomError } from '../protocol/errors.js';
export type { ErrorCode } from '../protocol/errors.js';
export type { IceServer } from '../protocol/signaling.js';
export type { RedisNode, RedisTarget } from './redis.js';
