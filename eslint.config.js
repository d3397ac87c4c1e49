// Guards the type checker cannot give: promises nobody awaits or handles, and the layering
// ARCHITECTURE.md describes (protocol/ imports neither side; the client never imports the
// service nor the service the client; one file each knows simple-peer and socket.io-client).
import tseslint from 'typescript-eslint';

const restrict = (...patterns) => ['error', { patterns }];
const simplePeer = { group: ['simple-peer'], message: 'only client/peer/link.ts talks to simple-peer' };
const socketIoClient = { group: ['socket.io-client'], message: 'only client/signal-client.ts talks to socket.io-client' };

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'signaling/demo/**', 'client/moved/**', 'examples/**', 'scripts/*.mjs', 'eslint.config.js'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
    },
  },
  {
    files: ['protocol/**/*.ts'],
    rules: { 'no-restricted-imports': restrict({ group: ['**/client/**', '**/signaling/**'], message: 'protocol/ is the contract both sides import: it imports neither' }) },
  },
  {
    files: ['client/**/*.ts'],
    ignores: ['client/peer/link.ts', 'client/signal-client.ts'],
    rules: { 'no-restricted-imports': restrict({ group: ['**/signaling/**', 'socket.io', 'zod'], message: 'the client (and the browser bundle) never imports the service, Socket.IO\'s server or zod' }, simplePeer, socketIoClient) },
  },
  { files: ['client/peer/link.ts'], rules: { 'no-restricted-imports': restrict({ group: ['**/signaling/**'], message: 'the client never imports the service' }, socketIoClient) } },
  { files: ['client/signal-client.ts'], rules: { 'no-restricted-imports': restrict({ group: ['**/signaling/**'], message: 'the client never imports the service' }, simplePeer) } },
  {
    files: ['signaling/**/*.ts'],
    rules: { 'no-restricted-imports': restrict({ group: ['**/client/**'], message: 'the service never imports the client' }, simplePeer, socketIoClient) },
  },
);
