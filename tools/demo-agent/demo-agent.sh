#!/bin/sh
# DEMO AGENT — not an AI; it exists to exercise the pipeline locally.
#
# It follows the work-directory protocol of docs/design.md the way a real agent would, with a
# mechanical "solution": run with cwd = the worker's work dir, it reads TASK.md, creates the branch
# agent/<slug of the task heading> in repo/, adds docs/tasks/<KEY>.md (the task's title, description
# and a short "Proposed change" section), appends a line to CHANGELOG.md when the repo has src/,
# commits, and writes agent-meta/{WAS_JOB_SUCCESSFUL,meta-info.txt,ending-report.md}.
# A job over several repositories (repo/<name>/ each, docs/multi-repository.md): the same change in each
# repository named in DEMO_AGENT_REPOSITORIES (default: all of them), listed in agent-meta/branches.json.
#
# A follow-up (TASK.md starting "# Follow-up on", docs/follow-up-runs.md) is answered on the branch that is checked
# out: it appends the review comments it was given to docs/reviews/<KEY>.md, commits that on top, and writes an
# ending report naming each comment (it becomes the reply on the pull request).
#
# Test hooks (DEMO_AGENT_BEHAVIOUR):
#   succeed (default)  the above
#   fail               reports WAS_JOB_SUCCESSFUL=false with a report; commits nothing
#   report             reports success with OUTCOME=report: the ending report is the result; commits nothing
#   invalid-first      attempt 1 leaves a dirty tree and no ending report; later attempts fix that
#   invalid-always     never writes a valid WAS_JOB_SUCCESSFUL
#   crash              exits 3 without doing anything
# DEMO_AGENT_SLEEP_SECONDS=N (default 0) sleeps N seconds before working, as a slow agent would, so that a job
# can be seen running and cancelled (the console's browser test; WORKER_AGENT_COMMAND passes it, e.g.
# `DEMO_AGENT_SLEEP_SECONDS=120 bash tools/demo-agent/demo-agent.sh`).
set -euf

behaviour="${DEMO_AGENT_BEHAVIOUR:-succeed}"
attempt="${AGENT_ATTEMPT:-1}"
sleep_seconds="${DEMO_AGENT_SLEEP_SECONDS:-0}"

case "$sleep_seconds" in
  ''|*[!0-9]*) echo "demo agent: DEMO_AGENT_SLEEP_SECONDS must be a whole number of seconds, not '$sleep_seconds'" >&2; exit 2 ;;
esac
if [ "$sleep_seconds" -gt 0 ]; then
  echo "demo agent: working slowly, sleeping ${sleep_seconds}s first (DEMO_AGENT_SLEEP_SECONDS)"
  sleep "$sleep_seconds"
fi

if [ "$behaviour" = crash ]; then
  echo "demo agent: crashing on purpose (DEMO_AGENT_BEHAVIOUR=crash)" >&2
  exit 3
fi
if [ -d repo/.git ]; then
  repositories=.
else
  # Names are plain directory names (the conductor checks them); globbing is off (set -f), so ls lists them.
  repositories="${DEMO_AGENT_REPOSITORIES:-$(ls repo)}"
fi
if [ ! -f TASK.md ] || [ -z "$repositories" ]; then
  echo "demo agent: expected TASK.md and repo/ in $(pwd)" >&2
  exit 4
fi
if [ -n "${AGENT_PROMPT_FILE:-}" ] && [ -f "$AGENT_PROMPT_FILE" ]; then
  echo "demo agent: attempt $attempt, prompt:"
  sed 's/^/  | /' "$AGENT_PROMPT_FILE"
fi

heading=$(sed -n 's/^# *//p' TASK.md | head -n 1)
[ -n "$heading" ] || heading="TASK: untitled task"
follow_up=no
case "$heading" in
  "Follow-up on "*) follow_up=yes; heading=${heading#Follow-up on } ;;
esac
case "$heading" in
  *:*) key=${heading%%:*}; summary=$(printf '%s' "${heading#*:}" | sed 's/^ *//') ;;
  *) key=$heading; summary="" ;;
esac
[ -n "$summary" ] || summary="follow up on the ticket"
safe_key=$(printf '%s' "$key" | tr -c 'A-Za-z0-9._-' '-' | sed 's/^-*//; s/-*$//')
[ -n "$safe_key" ] || safe_key=TASK
slug=$(printf '%s' "$heading" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9' '-' | sed 's/--*/-/g; s/^-//; s/-$//' | cut -c1-48 | sed 's/-$//')
[ -n "$slug" ] || slug=task
branch="agent/$slug"
title="$key: $summary"
description=$(sed -n '/^## Description/,$p' TASK.md | sed '1d' | sed '/./,$!d')
[ -n "$description" ] || description="_TASK.md has no description._"

mkdir -p agent-meta
printf '%s\n' "$title" > agent-meta/meta-info.txt

if [ "$behaviour" = fail ]; then
  printf 'false\n' > agent-meta/WAS_JOB_SUCCESSFUL
  cat > agent-meta/ending-report.md <<REPORT
# Could not complete $key

The demo agent was told to fail (DEMO_AGENT_BEHAVIOUR=fail), so it made no change.
A real agent would explain here what it found, what it tried and what blocked it.
REPORT
  exit 0
fi

if [ "$behaviour" = report ]; then
  printf 'true\n' > agent-meta/WAS_JOB_SUCCESSFUL
  printf 'report\n' > agent-meta/OUTCOME
  cat > agent-meta/ending-report.md <<REPORT
# Findings for $key

The demo agent was told to conclude with a report (DEMO_AGENT_BEHAVIOUR=report), so it made no change.
A real agent would give the likely root cause here, how confident it is, and the recommended follow-up.
REPORT
  exit 0
fi

if [ "$follow_up" = yes ] && [ "$behaviour" = succeed ]; then
  # The comments as TASK.md lists them: "`alice` on `src/orders.ts:42`", one per line.
  comments=$(sed -n 's/^### Comment [0-9][0-9]* by //p' TASK.md)
  count=$(printf '%s\n' "$comments" | grep -c . || true)
  cd repo
  branch=$(git symbolic-ref --quiet --short HEAD || echo '(detached)')
  mkdir -p docs/reviews
  {
    printf '## Review answered by the demo agent\n\n'
    printf '%s\n' "$comments" | sed 's/^/- Addressed the comment by /'
    printf '\n'
  } >> "docs/reviews/$safe_key.md"
  git add --sparse "docs/reviews/$safe_key.md"
  git commit --quiet -m "$key: answer $count review comment(s)" -m "Records the comments in docs/reviews/$safe_key.md (demo agent)."
  cd ..
  printf '%s: answer %s review comment(s)\n' "$key" "$count" > agent-meta/meta-info.txt
  printf 'true\n' > agent-meta/WAS_JOB_SUCCESSFUL
  {
    printf 'The demo agent answered %s review comment(s) with one commit on `%s`:\n\n' "$count" "$branch"
    printf '%s\n' "$comments" | sed 's/^/- the comment by /'
    printf '\nEach is recorded in `docs/reviews/%s.md`. This is the demo agent (not an AI): a real agent would change the code each comment points at.\n' "$safe_key"
  } > agent-meta/ending-report.md
  exit 0
fi

if [ "$behaviour" = invalid-always ]; then
  printf 'maybe\n' > agent-meta/WAS_JOB_SUCCESSFUL
  printf 'The demo agent is stuck (DEMO_AGENT_BEHAVIOUR=invalid-always).\n' > agent-meta/ending-report.md
  exit 0
fi

changed=""
branches_json=""
workdir=$(pwd)
for name in $repositories; do
  dir=repo/$name
  [ "$name" = . ] && dir=repo
  if [ ! -d "$dir/.git" ]; then
    echo "demo agent: $dir is not a git repository" >&2
    exit 4
  fi
  cd "$dir"
  if git rev-parse --verify --quiet "refs/heads/$branch" > /dev/null; then
    git checkout --quiet "$branch"
  else
    git checkout --quiet -b "$branch"
    keyword=$(printf '%s\n' $summary | awk '{ if (length($0) > length(best)) best = $0 } END { print best }' | tr -c 'A-Za-z0-9_-' ' ' | tr -d ' ')
    related=""
    if [ -n "$keyword" ]; then
      related=$(git grep -l -i -F -- "$keyword" 2> /dev/null | head -n 5 || true)
    fi
    mkdir -p docs/tasks
    {
      printf '# %s\n\n' "$title"
      printf '%s\n\n' "$description"
      printf '## Proposed change\n\n'
      printf -- '- Address "%s" as described above, with a test that shows the new behaviour.\n' "$summary"
      if [ -n "$related" ]; then
        printf -- '- Files that mention "%s" and are the likely starting point:\n' "$keyword"
        printf '%s\n' "$related" | sed 's/^/  - `/; s/$/`/'
      else
        printf -- '- No file mentions "%s" yet; the change starts with a new module.\n' "$keyword"
      fi
      printf -- '- Written by the demo agent, which does not write code: a real agent would implement this.\n'
    } > "docs/tasks/$safe_key.md"
    git add --sparse "docs/tasks/$safe_key.md"
    if [ -d src ]; then
      printf -- '- %s (see docs/tasks/%s.md)\n' "$title" "$safe_key" >> CHANGELOG.md
      git add --sparse CHANGELOG.md
    fi
    git commit --quiet -m "$title" -m "Adds docs/tasks/$safe_key.md with the task and a proposed change (demo agent)."
  fi
  stat=$(git diff --stat "HEAD~1" HEAD | sed 's/^/    /')
  cd "$workdir"
  if [ "$name" = . ]; then
    changed=$stat
  else
    changed="$changed
  $dir/:
$stat
"
    branches_json="$branches_json${branches_json:+, }\"$name\": \"$branch\""
  fi
done
if [ -n "$branches_json" ]; then
  printf '{%s}\n' "$branches_json" > agent-meta/branches.json
fi

printf 'true\n' > agent-meta/WAS_JOB_SUCCESSFUL
if [ "$behaviour" = invalid-first ] && [ "$attempt" -le 1 ]; then
  echo "scratch" > repo/scratch-notes.txt
  rm -f agent-meta/ending-report.md
  exit 0
fi
rm -f repo/scratch-notes.txt
cat > agent-meta/ending-report.md <<REPORT
# $title

On branch \`$branch\`, the demo agent recorded the task and a proposed change in
\`docs/tasks/$safe_key.md\`$( [ -d repo/src ] && printf ' and added a line to `CHANGELOG.md`' ).

Changed files:

$changed

How it was verified: the tree is clean and the branch is one commit ahead of the default branch.
This is the demo agent (not an AI); review it as a pipeline check, not as a code change.
REPORT
