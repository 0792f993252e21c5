import { Arg, Copy, DockerfileParser, Env, From, type Instruction as AstInstruction } from 'dockerfile-ast';

/** Our images' structure on top of dockerfile-ast: instructions grouped into build stages. */

export interface Instruction {
  keyword: string;
  /** The arguments after the keyword and its flags, continuation lines joined by a space. */
  args: string;
  /** 1-based, as an editor shows it. */
  line: number;
  node: AstInstruction;
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

function toInstruction(node: AstInstruction): Instruction {
  return {
    keyword: node.getKeyword(),
    args: node
      .getArguments()
      .map((argument) => argument.getValue())
      .join(' '),
    line: node.getRange().start.line + 1,
    node,
  };
}

export function parseDockerfile(text: string): Dockerfile {
  const stages: Stage[] = [];
  for (const node of DockerfileParser.parse(text).getInstructions()) {
    const instruction = toInstruction(node);
    if (node instanceof From) {
      const image = node.getImage();
      if (!image) throw new Error(`line ${instruction.line}: FROM without an image`);
      stages.push({ index: stages.length, name: node.getBuildStage(), image, instructions: [] });
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

/** COPY/ADD in the shell or JSON form, with the stage named by --from. */
export function parseCopy(instruction: Instruction): CopyInstruction {
  const { node, line } = instruction;
  if (instruction.keyword !== 'COPY' && instruction.keyword !== 'ADD') throw new Error(`line ${line}: not a COPY/ADD`);
  const from = node instanceof Copy ? (node.getFromFlag()?.getValue() ?? null) : null;
  const json = node instanceof Copy ? node.getJSONStrings().map((argument) => argument.getJSONValue()) : [];
  const words = json.length > 0 ? json : node.getArguments().map((argument) => argument.getValue());
  if (words.length < 2) throw new Error(`line ${line}: ${instruction.keyword} needs a source and a destination`);
  return { from, sources: words.slice(0, -1), destination: words[words.length - 1] ?? '', line };
}

/** ENV and ARG as name/value pairs, quotes removed; an ARG without a default has the value null. */
export function parseAssignments(instruction: Instruction): Array<[string, string | null]> {
  const { node } = instruction;
  if (!(node instanceof Env) && !(node instanceof Arg)) throw new Error(`line ${instruction.line}: not an ENV/ARG`);
  return node.getProperties().map((property) => [property.getName(), property.getValue()]);
}

export function finalStage(dockerfile: Dockerfile): Stage {
  const stage = dockerfile.stages[dockerfile.stages.length - 1];
  if (!stage) throw new Error('no FROM in the Dockerfile');
  return stage;
}

export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}
