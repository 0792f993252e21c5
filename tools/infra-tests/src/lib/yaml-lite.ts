/**
 * A reader for the YAML subset our workflow files use: block mappings and
 * sequences, plain and quoted scalars, flow sequences `[a, b]`, `|`/`>` block
 * scalars and comments. Scalars stay strings. Anything outside the subset
 * (anchors, flow mappings, multi-document files) throws rather than guessing,
 * so a workflow never passes the checks by being misread.
 */
export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  number: number;
}

export function parseYaml(source: string): YamlValue {
  const raw = source.split(/\r?\n/);
  const lines: Line[] = [];
  raw.forEach((text, i) => {
    if (/^\s*(#.*)?$/.test(text)) return;
    if (/^\s*(---|\.\.\.)\s*$/.test(text)) throw new Error(`line ${i + 1}: multiple documents are not supported`);
    if (/^\t/.test(text)) throw new Error(`line ${i + 1}: tab indentation`);
    lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), number: i + 1 });
  });
  let pos = 0;

  const blockScalar = (parentIndent: number, style: string, startLine: number): string => {
    const body: string[] = [];
    let end = startLine;
    for (let i = startLine; i < raw.length; i++) {
      const text = raw[i] ?? '';
      if (text.trim() !== '' && text.length - text.trimStart().length <= parentIndent) break;
      body.push(text);
      end = i + 1;
    }
    while (pos < lines.length && (lines[pos]?.number ?? Infinity) <= end) pos++;
    const nonBlank = body.filter((text) => text.trim() !== '');
    const indent = Math.min(...nonBlank.map((text) => text.length - text.trimStart().length));
    const stripped = body.map((text) => text.slice(indent)).join('\n').replace(/\n+$/, '');
    const folded = style.startsWith('>') ? stripped.replace(/([^\n])\n(?=[^\n])/g, '$1 ') : stripped;
    // Chomping: `-` drops the final newline; clip (and `+`, approximated) keeps one.
    return style.endsWith('-') ? folded : `${folded}\n`;
  };

  const scalar = (text: string, line: number): YamlValue => {
    const value = text.replace(/\s+#.*$/, '').trim();
    if (value === '' || value === '~' || value === 'null') return null;
    if (value.startsWith('"')) return JSON.parse(value) as string;
    if (value.startsWith("'")) return value.slice(1, -1).replace(/''/g, "'");
    if (value.startsWith('[')) {
      if (!value.endsWith(']')) throw new Error(`line ${line}: unterminated flow sequence`);
      const inner = value.slice(1, -1).trim();
      return inner === '' ? [] : inner.split(',').map((item) => scalar(item, line));
    }
    if (value.startsWith('{') && !value.startsWith('{{')) throw new Error(`line ${line}: flow mappings are not supported`);
    if (/^[&*!]/.test(value)) throw new Error(`line ${line}: anchors, aliases and tags are not supported`);
    return value;
  };

  const keyValue = (text: string): [string, string] | null => {
    const match = /^("[^"]*"|'[^']*'|[^\s"'#][^:#]*?)\s*:(?:\s+(.*))?$/.exec(text);
    if (!match) return null;
    const key = match[1] ?? '';
    return [key.startsWith('"') || key.startsWith("'") ? key.slice(1, -1) : key, match[2] ?? ''];
  };

  const valueAfterKey = (rest: string, indent: number, line: Line): YamlValue => {
    const trimmed = rest.replace(/\s+#.*$/, '').trim();
    if (/^[|>][-+]?$/.test(trimmed)) return blockScalar(indent, trimmed, line.number);
    if (trimmed !== '') return scalar(rest, line.number);
    const next = lines[pos];
    if (next && next.indent > indent) return block(next.indent);
    // `key:` followed by `- item` at the same indent is a sequence value.
    if (next && next.indent === indent && next.text.startsWith('-')) return sequence(indent);
    return null;
  };

  const mapping = (indent: number): { [key: string]: YamlValue } => {
    const out: { [key: string]: YamlValue } = {};
    while (pos < lines.length) {
      const line = lines[pos];
      if (!line || line.indent < indent || line.text.startsWith('- ') || line.text === '-') break;
      if (line.indent > indent) throw new Error(`line ${line.number}: unexpected indentation`);
      const pair = keyValue(line.text);
      if (!pair) throw new Error(`line ${line.number}: expected "key: value"`);
      pos++;
      if (pair[0] in out) throw new Error(`line ${line.number}: duplicate key ${pair[0]}`);
      out[pair[0]] = valueAfterKey(pair[1], indent, line);
    }
    return out;
  };

  const sequence = (indent: number): YamlValue[] => {
    const out: YamlValue[] = [];
    while (pos < lines.length) {
      const line = lines[pos];
      if (!line || line.indent !== indent || !(line.text.startsWith('- ') || line.text === '-')) break;
      const rest = line.text.slice(1).trimStart();
      if (rest === '') {
        pos++;
        const next = lines[pos];
        out.push(next && next.indent > indent ? block(next.indent) : null);
      } else if (keyValue(rest) && !rest.startsWith('"') && !rest.startsWith("'")) {
        // `- key: value` opens a mapping whose keys sit where `key` starts.
        const itemIndent = indent + (line.text.length - rest.length);
        lines[pos] = { ...line, indent: itemIndent, text: rest };
        out.push(mapping(itemIndent));
      } else {
        pos++;
        out.push(scalar(rest, line.number));
      }
    }
    return out;
  };

  const block = (indent: number): YamlValue => {
    const line = lines[pos];
    if (!line) return null;
    return line.text.startsWith('- ') || line.text === '-' ? sequence(indent) : mapping(indent);
  };

  const result = block(lines[0]?.indent ?? 0);
  if (pos < lines.length) throw new Error(`line ${lines[pos]?.number}: could not be read`);
  return result;
}

export function isMapping(value: YamlValue | undefined): value is { [key: string]: YamlValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
