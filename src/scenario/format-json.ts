/**
 * JSON text that stays readable for scenario documents: objects and arrays that fit on one line
 * stay on one line, and long arrays of numbers are wrapped several to a line.
 * Used by `kumul scenario export` and scripts/build-hami-data.ts.
 */
export function formatJson(value: unknown, width = 120): string {
  return format(value, '', width) + '\n';
}

function format(value: unknown, indent: string, width: number): string {
  const flat = oneLine(value);
  if (value === null || typeof value !== 'object' || indent.length + flat.length <= width) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => typeof v === 'number')) return `[\n${wrapNumbers(value as number[], inner, width)}\n${indent}]`;
    return `[\n${value.map((v) => inner + format(v, inner, width)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${format(v, inner, width)}`).join(',\n')}\n${indent}}`;
}

/** JSON on one line with a space after commas and colons: `{"load": 0, "powerW": 196.1}`. */
function oneLine(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${oneLine(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function wrapNumbers(numbers: number[], indent: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const n of numbers) {
    const item = `${JSON.stringify(n)},`;
    if (line !== '' && indent.length + line.length + 1 + item.length > width) {
      lines.push(indent + line);
      line = item;
    } else line = line === '' ? item : `${line} ${item}`;
  }
  lines.push(indent + line.slice(0, -1));
  return lines.join('\n');
}
