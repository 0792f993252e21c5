/** GitHub rejects pull request and issue bodies longer than this ("body is too long (maximum is 65536 characters)"). */
export const GITHUB_BODY_LIMIT = 65_536;

/**
 * Below this many characters a truncated transcript says too little to be worth its fence; the body then only
 * says where the transcript is.
 */
const MIN_TRANSCRIPT_CHARS = 1_000;

const WHERE_THE_TRANSCRIPT_IS = "the full transcript is agent-meta/transcript.md in the job's uploaded results";

export interface BodyParts {
  /** The agent's ending report, always first. */
  report: string;
  /** Markdown placed after the report, e.g. a link to the pushed branch. */
  extra?: string;
  /** agent-meta/transcript.md, when the agent runner wrote one. */
  transcript?: string;
}

export interface ComposedBody {
  body: string;
  /** What had to give way to the limit. */
  truncated: 'nothing' | 'transcript' | 'transcript-omitted' | 'report';
}

/**
 * The report, then the transcript in a collapsed block. Lengths are counted in UTF-16 code units, which is never
 * less than GitHub's count of characters, and cuts never split a surrogate pair; the transcript gives way first.
 */
export function composeBody(parts: BodyParts, limit = GITHUB_BODY_LIMIT): ComposedBody {
  const head = [parts.report.trimEnd(), parts.extra?.trim() ?? ''].filter((part) => part !== '').join('\n\n');
  const transcript = parts.transcript ?? '';
  if (transcript.trim() === '') return fitHead(head, limit);

  const fence = fenceFor(transcript);
  const full = `${head}\n\n${transcriptBlock(transcript, fence, undefined)}`;
  if (full.length <= limit) return { body: full, truncated: 'nothing' };

  // The note and the marker are measured with the largest number they can hold, so the real ones never overflow.
  const note = (omitted: number): string => `_The transcript is cut to fit GitHub's ${limit}-character limit (${omitted} characters omitted); ${WHERE_THE_TRANSCRIPT_IS}._`;
  const marker = (omitted: number): string => `\n[… ${omitted} characters omitted …]\n`;
  const skeleton = `${head}\n\n${transcriptBlock(marker(transcript.length), fence, note(transcript.length))}`;
  const budget = limit - skeleton.length;
  if (budget >= MIN_TRANSCRIPT_CHARS) {
    const start = sliceHead(transcript, Math.floor(budget / 2));
    const end = sliceTail(transcript, budget - start.length);
    const omitted = transcript.length - start.length - end.length;
    return { body: `${head}\n\n${transcriptBlock(`${start}${marker(omitted)}${end}`, fence, note(omitted))}`, truncated: 'transcript' };
  }

  const omittedNote = `\n\n_The transcript is omitted to fit GitHub's ${limit}-character limit; ${WHERE_THE_TRANSCRIPT_IS}._`;
  if (head.length + omittedNote.length <= limit) return { body: `${head}${omittedNote}`, truncated: 'transcript-omitted' };
  return fitHead(head, limit);
}

function fitHead(head: string, limit: number): ComposedBody {
  if (head.length <= limit) return { body: head, truncated: 'nothing' };
  const note = `\n\n_The report is cut to fit GitHub's ${limit}-character limit; the full report is agent-meta/ending-report.md and ${WHERE_THE_TRANSCRIPT_IS}._`;
  return { body: `${sliceHead(head, limit - note.length)}${note}`, truncated: 'report' };
}

function transcriptBlock(content: string, fence: string, note: string | undefined): string {
  const text = content.endsWith('\n') ? content : `${content}\n`;
  return ['<details><summary>Agent transcript</summary>', '', ...(note ? [note, ''] : []), `${fence}text`, `${text}${fence}`, '', '</details>', ''].join('\n');
}

/** A fence longer than any backtick run in the text, so that nothing in the transcript can close it early. */
export function fenceFor(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(3, longestRun + 1));
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** At most max code units from the start, never ending between the halves of a surrogate pair. */
export function sliceHead(text: string, max: number): string {
  let end = Math.max(0, Math.min(max, text.length));
  if (end > 0 && end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(0, end);
}

/** At most max code units from the end, never starting between the halves of a surrogate pair. */
export function sliceTail(text: string, max: number): string {
  let start = Math.max(0, text.length - Math.max(0, max));
  if (start > 0 && start < text.length && isLowSurrogate(text.charCodeAt(start))) start += 1;
  return text.slice(start);
}
