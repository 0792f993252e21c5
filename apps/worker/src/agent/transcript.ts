import { isAbsolute, relative } from 'node:path';
import type { ThreadEvent, ThreadItem } from '@openai/codex-sdk';
import { REDACTED, secretRedactor } from '@agent-conductor/contracts';

/** What the publisher gets to show; GitHub's body limit is far lower, it truncates again. */
export const TRANSCRIPT_MAX_BYTES = 200 * 1024;
export { REDACTED };

const MESSAGE_MAX_CHARS = 16 * 1024;
const COMMAND_OUTPUT_MAX_CHARS = 4 * 1024;
const COMMAND_OUTPUT_MAX_LINES = 40;

/**
 * codex reports each retry of the model stream as an `error` event ("Reconnecting... 2/5 (…)"); it goes on, and
 * only an error after the last retry ends the turn.
 */
export function isReconnectNotice(message: string): boolean {
  return /^Reconnecting\.\.\. \d+\/\d+/.test(message);
}

/** Replaces every occurrence of the given secrets and every common token shape; applied to everything before it is kept. */
export function redactor(secrets: Array<string | undefined>): (text: string) => string {
  return secretRedactor(secrets);
}

/**
 * A readable Markdown account of a Codex thread, built from its JSONL events: agent messages, commands with
 * their exit codes and output tails, file changes, tool calls, errors. Reasoning is left out: it is long,
 * and the messages and actions already say what the agent did.
 *
 * Kept as whole entries so that dropping the oldest ones to respect the size bound never cuts a code
 * fence in half.
 */
export class Transcript {
  private readonly entries: string[] = [];
  private bytes = 0;
  private omitted = 0;
  private threadId: string | undefined;
  /** Commands that started but have not completed, so a stopped turn can say what was running. */
  private readonly running = new Map<string, string>();

  constructor(
    private readonly workDir: string,
    private readonly redact: (text: string) => string,
    private readonly maxBytes = TRANSCRIPT_MAX_BYTES,
  ) {}

  beginTurn(heading: string): void {
    this.add(`## ${heading}`);
  }

  note(markdown: string): void {
    this.add(markdown);
  }

  record(event: ThreadEvent): void {
    switch (event.type) {
      case 'thread.started':
        if (event.thread_id !== this.threadId) {
          this.threadId = event.thread_id;
          this.add(`_Thread ${inlineCode(event.thread_id)}_`);
        }
        return;
      case 'item.started':
        if (event.item.type === 'command_execution') this.running.set(event.item.id, event.item.command);
        return;
      case 'item.completed':
        this.running.delete(event.item.id);
        this.addItem(event.item);
        return;
      case 'turn.completed': {
        const usage = event.usage;
        this.add(`_Turn completed: ${usage.input_tokens} input tokens (${usage.cached_input_tokens} cached), ${usage.output_tokens} output tokens._`);
        return;
      }
      case 'turn.failed':
        this.add(`**Turn failed:** ${oneParagraph(event.error.message)}`);
        return;
      case 'error':
        this.add(`**${isReconnectNotice(event.message) ? 'Retrying' : 'Error'}:** ${oneParagraph(event.message)}`);
        return;
      case 'turn.started':
      case 'item.updated':
        return;
    }
  }

  /** Ends a turn; commands still running at this point were cut off. */
  endTurn(): void {
    for (const command of this.running.values()) {
      this.add(`**Command** (did not finish):\n\n${fenced(`$ ${command}`)}`);
    }
    this.running.clear();
  }

  render(): string {
    const omitted = this.omitted > 0 ? `_${this.omitted} earlier entries omitted to stay under ${Math.round(this.maxBytes / 1024)} KiB._\n\n` : '';
    return `# Codex transcript\n\n${omitted}${this.entries.join('\n\n')}\n`;
  }

  private addItem(item: ThreadItem): void {
    switch (item.type) {
      case 'agent_message':
        this.add(`**Codex:**\n\n${clip(item.text, MESSAGE_MAX_CHARS)}`);
        return;
      case 'command_execution': {
        const status = item.exit_code === undefined ? item.status : `exit ${item.exit_code}`;
        const output = tailOf(item.aggregated_output);
        this.add(`**Command** (${status}):\n\n${fenced(output === '' ? `$ ${item.command}` : `$ ${item.command}\n${output}`)}`);
        return;
      }
      case 'file_change': {
        const changes = item.changes.map((change) => `${change.kind} ${inlineCode(this.displayPath(change.path))}`).join(', ');
        this.add(`**Files** (${item.status === 'completed' ? 'changed' : 'patch failed'}): ${changes || 'none'}`);
        return;
      }
      case 'mcp_tool_call': {
        const error = item.error ? `: ${oneParagraph(item.error.message)}` : '';
        this.add(`**Tool call** ${inlineCode(`${item.server}.${item.tool}`)} (${item.status})${error}`);
        return;
      }
      case 'web_search':
        this.add(`**Web search:** ${oneParagraph(item.query)}`);
        return;
      case 'todo_list':
        this.add(`**Plan:**\n\n${item.items.map((todo) => `- [${todo.completed ? 'x' : ' '}] ${oneParagraph(todo.text)}`).join('\n')}`);
        return;
      case 'error':
        this.add(`**Error:** ${oneParagraph(item.message)}`);
        return;
      case 'reasoning':
        return;
    }
  }

  private displayPath(path: string): string {
    if (!isAbsolute(path)) return path;
    const inside = relative(this.workDir, path);
    return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
  }

  private add(markdown: string): void {
    const entry = this.redact(markdown);
    this.entries.push(entry);
    this.bytes += Buffer.byteLength(entry) + 2;
    while (this.bytes > this.maxBytes && this.entries.length > 1) {
      const dropped = this.entries.shift() ?? '';
      this.bytes -= Buffer.byteLength(dropped) + 2;
      this.omitted++;
    }
  }
}

function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}\n\n_(${text.length - maxChars} more characters omitted)_`;
}

/** The end of a command's output: that is where errors and summaries are. */
function tailOf(output: string): string {
  const lines = output.replace(/\s+$/, '').split('\n');
  let tail = lines.slice(-COMMAND_OUTPUT_MAX_LINES).join('\n');
  if (tail.length > COMMAND_OUTPUT_MAX_CHARS) tail = tail.slice(-COMMAND_OUTPUT_MAX_CHARS);
  const omittedLines = lines.length > COMMAND_OUTPUT_MAX_LINES ? `… (${lines.length - COMMAND_OUTPUT_MAX_LINES} earlier lines omitted)\n` : '';
  return tail === '' ? '' : `${omittedLines}${tail}`;
}

function oneParagraph(text: string): string {
  return clip(text.replace(/\s*\n\s*/g, ' ').trim(), MESSAGE_MAX_CHARS);
}

/** A fence longer than any backtick run inside, so command output cannot close it. */
function fenced(content: string): string {
  const longestRun = Math.max(0, ...(content.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}\n${content}\n${fence}`;
}

function inlineCode(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(longestRun + 1);
  return longestRun > 0 ? `${ticks} ${text} ${ticks}` : `${ticks}${text}${ticks}`;
}
