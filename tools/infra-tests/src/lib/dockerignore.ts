/**
 * .dockerignore matching: patterns are relative to the context root, `*` and `?`
 * stay within a path segment, `**` spans segments, a later `!pattern` re-includes,
 * and excluding a directory excludes everything below it.
 */
export interface IgnoreRule {
  negated: boolean;
  regex: RegExp;
  pattern: string;
}

export function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = (negated ? line.slice(1) : line).trim().replace(/^\.?\//, '').replace(/\/+$/, '');
      return { negated, pattern, regex: globToRegex(pattern) };
    });
}

function globToRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] ?? '';
    if (char === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more whole segments.
      if (pattern[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export function isExcluded(rules: IgnoreRule[], path: string): boolean {
  const normalized = path.replace(/^\.?\//, '').replace(/\/+$/, '');
  const segments = normalized.split('/');
  // A path is excluded when it or one of its parent directories matches.
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.negated;
  }
  return excluded;
}
