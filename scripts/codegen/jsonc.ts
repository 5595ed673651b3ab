// JSON with `//` line comments (Kafka's message-definition dialect).

/** Removes `//` comments that are outside string literals ("//" inside strings, e.g. URLs, is kept). */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') {
        out += c + (text[i + 1] ?? '');
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      out += c;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

export function parseJsonc(text: string, source = '<input>'): unknown {
  try {
    return JSON.parse(stripComments(text));
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
}
