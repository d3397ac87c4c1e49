/**
 * `roommesh/signaling` moved to the `roommesh-server` package; this entry point re-exports it
 * where it is installed. Import from 'roommesh-server' instead.
 * @deprecated
 */
export * from 'roommesh-server';
