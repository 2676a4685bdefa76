// Reading tokenizer.json / tokenizer_config.json fields with a message that names the field when
// one is missing or of the wrong type. The loaders turn a FormatProblem into a NerkitError
// (E_FORMAT) placed in the file; this module knows nothing of files. Hugging Face's snake_case keys
// stay inside the modules that read them.
// Hand-written: a few typed readers, not worth a schema library.

export class FormatProblem extends Error {}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` as an object, or a FormatProblem naming `where`. */
export function kind(value: unknown, where: string): JsonObject {
  if (!isObject(value)) throw new FormatProblem(`${where} must be an object`);
  return value;
}

export function field(obj: JsonObject, key: string, where: string): unknown {
  if (!(key in obj)) throw new FormatProblem(`${where}.${key} is missing`);
  return obj[key];
}

export function bool(obj: JsonObject, key: string, fallback: boolean, where: string): boolean {
  const value = obj[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") throw new FormatProblem(`${where}.${key} must be true or false`);
  return value;
}

export function str(obj: JsonObject, key: string, where: string): string {
  const value = obj[key];
  if (typeof value !== "string") throw new FormatProblem(`${where}.${key} must be a string`);
  return value;
}

export function optionalString(obj: JsonObject, key: string, where: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new FormatProblem(`${where}.${key} must be a string`);
  return value;
}

export function num(obj: JsonObject, key: string, where: string): number {
  const value = obj[key];
  if (typeof value !== "number" || !Number.isFinite(value)) throw new FormatProblem(`${where}.${key} must be a number`);
  return value;
}

export function optionalInt(obj: JsonObject, key: string, where: string): number | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new FormatProblem(`${where}.${key} must be a non-negative integer`);
  }
  return value;
}

/** A token name in tokenizer_config.json: a string, or an AddedToken object with `content`. */
export function tokenName(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isObject(value) && typeof value.content === "string") return value.content;
  return undefined;
}
