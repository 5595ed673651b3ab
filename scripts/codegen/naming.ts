// Identifier rules (see README.md).

/**
 * Field name: lower-case the leading run of capitals, except the last capital of the run when a
 * lower-case letter follows it (ThrottleTimeMs -> throttleTimeMs, ISRNodes -> isrNodes, ID -> id).
 */
export function fieldName(json: string): string {
  let n = 0;
  while (n < json.length && /[A-Z]/.test(json[n]!)) n++;
  if (n === 0) return json;
  if (n === 1) return json[0]!.toLowerCase() + json.slice(1);
  if (n < json.length && /[a-z]/.test(json[n]!)) n--;
  return json.slice(0, n).toLowerCase() + json.slice(n);
}

/** File name: kebab case of the CamelCase name (ListOffsets -> list-offsets, KRaftVersionRecord -> k-raft-version-record). */
export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** A TypeScript single-quoted string literal. */
export function tsString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}
