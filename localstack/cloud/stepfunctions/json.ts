/**
 * The JSON values the emulator moves around: execution inputs and outputs, Task payloads, API request bodies.
 * Object fields may be `undefined`: a key can be absent from JSON read from outside, and a field set to `undefined`
 * is dropped by `JSON.stringify`, which is how optional fields of outputs are written.
 */

type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue | undefined;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object itself, or an empty one for anything else (a missing or mistyped field of a request). */
export function objectOr(value: unknown): JsonObject {
  return isJsonObject(value) ? value : {};
}

/** Parses JSON text; what `JSON.parse` returns is a JSON value by construction. */
export function parseJson(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}

/** A deep copy through JSON, as the SDK outputs are turned into Task results (dates become strings, etc.). */
export function toJson(value: unknown, replacer?: (key: string, value: unknown) => unknown): JsonValue {
  return parseJson(JSON.stringify(value, replacer));
}

/** A value as message text: strings and numbers as themselves, objects and arrays as JSON. */
export function display(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** A request field read as text exactly as `String()` reads it (an object sent for a string fails to parse later). */
export function fieldText(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}
