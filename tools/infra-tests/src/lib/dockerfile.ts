/** A deliberately small Dockerfile reader: enough structure to check our images, not a full BuildKit parser. */

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  line: number;
}

export interface CopyInstruction {
  from: string | null;
  sources: string[];
  destination: string;
  line: number;
}

export interface Stage {
  index: number;
  name: string | null;
  image: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions = readInstructions(text);
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'));
      const image = words[0];
      if (!image) throw new Error(`line ${instruction.line}: FROM without an image`);
      const asIndex = words.findIndex((word) => word.toUpperCase() === 'AS');
      stages.push({ index: stages.length, name: asIndex >= 0 ? (words[asIndex + 1] ?? null) : null, image, instructions: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    // ARG before the first FROM is global; nothing else may precede a stage.
    if (!current) {
      if (instruction.keyword !== 'ARG') throw new Error(`line ${instruction.line}: ${instruction.keyword} before FROM`);
      continue;
    }
    current.instructions.push(instruction);
  }
  return { stages };
}

function readInstructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  let pending: { parts: string[]; line: number } | null = null;
  lines.forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comments and blank lines never end a continued instruction, as in Docker.
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const continued = trimmed.endsWith('\\');
    const body = continued ? trimmed.slice(0, -1).trim() : trimmed;
    if (pending) pending.parts.push(body);
    else pending = { parts: [body], line: i + 1 };
    if (!continued) {
      const joined = pending.parts.filter((part) => part !== '').join(' ');
      const match = /^(\S+)\s*(.*)$/s.exec(joined);
      if (match) out.push({ keyword: (match[1] ?? '').toUpperCase(), args: match[2] ?? '', line: pending.line });
      pending = null;
    }
  });
  if (pending) throw new Error('the file ends inside a continued instruction');
  return out;
}

/** Splits the flags off COPY/ADD and reads the shell or JSON form. */
export function parseCopy(instruction: Instruction): CopyInstruction {
  if (instruction.keyword !== 'COPY' && instruction.keyword !== 'ADD') {
    throw new Error(`line ${instruction.line}: not a COPY/ADD`);
  }
  let rest = instruction.args.trim();
  let from: string | null = null;
  for (;;) {
    const flag = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest);
    if (!flag) break;
    if (flag[1] === 'from') from = flag[2] ?? null;
    rest = rest.slice(flag[0].length);
  }
  const words = rest.startsWith('[') ? (JSON.parse(rest) as unknown[]).map(String) : rest.split(/\s+/);
  if (words.length < 2) throw new Error(`line ${instruction.line}: COPY needs a source and a destination`);
  return { from, sources: words.slice(0, -1), destination: words[words.length - 1] ?? '', line: instruction.line };
}

/** ENV and ARG as key/value pairs (`ENV A=1 B="2"`, `ENV A 1`, `ARG A`, `ARG A=1`). */
export function parseAssignments(instruction: Instruction): Array<[string, string | null]> {
  const args = instruction.args.trim();
  if (!args.includes('=')) {
    const [key, ...value] = args.split(/\s+/);
    return [[key ?? '', instruction.keyword === 'ARG' ? null : value.join(' ')]];
  }
  const out: Array<[string, string | null]> = [];
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?/g)) {
    const value = match[2];
    out.push([match[1] ?? '', value === undefined ? null : value.replace(/^(["'])(.*)\1$/s, '$2')]);
  }
  return out;
}

export function finalStage(dockerfile: Dockerfile): Stage {
  const stage = dockerfile.stages[dockerfile.stages.length - 1];
  if (!stage) throw new Error('no FROM in the Dockerfile');
  return stage;
}

export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}
