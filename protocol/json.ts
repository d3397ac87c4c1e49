/** A value JSON can carry without loss. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object: what a message's `message` and a participant's attributes are. */
export type JsonObject = { [key: string]: JsonValue };
