// `roommesh/signaling` moved to its own package, `roommesh-server`, so that an app that only
// joins rooms does not install the service. Where roommesh-server is installed this entry point
// still works (it re-exports it); where it is not, importing it says what to install.
let server;
try {
  server = await import('roommesh-server');
} catch (cause) {
  if (cause?.code !== 'ERR_MODULE_NOT_FOUND' || !String(cause.message).includes("'roommesh-server'")) throw cause;
  throw new Error(
    "roommesh/signaling moved to its own package: run `npm install roommesh-server` and import { createSignalingServer, createToken } from 'roommesh-server'",
    { cause },
  );
}
export const { createSignalingServer, createToken, verifyToken, SERVER_DEFAULTS, ERROR_CODES, RoomError } = server;
