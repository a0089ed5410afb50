#!/usr/bin/env bash
# The body of the tieragent GitHub Action (action.yml).
#
# Why a script and not an inline `run:` block: action.yml passes every input to this script as an
# environment variable (TA_*), and the script only ever expands them inside double quotes, so an
# input (an issue body full of quotes, backticks and `$(...)`) is data and never shell text.
#
# Inputs (all optional except where noted):
#   TA_COMMAND      review | fix                       (default review)
#   TA_REQUEST      fix: the request text; written to a file and passed with --request-file
#   TA_BASE         review: the ref to review against (see "The base" below)
#   TA_FORMAT       review: text | json | markdown | github | sarif  (default github)
#   TA_FAIL_ON      review: high | medium | low | never              (default high)
#   TA_MODELS       lines `small=openai/gpt-5-nano`, `mid=...`, `frontier=...`
#   TA_MAX_COST     budget in USD, passed as --max-cost (empty: the configuration decides)
#   TA_VERSION      what pip installs (default: the action's own checkout)
# For tests and local runs:
#   TA_SKIP_INSTALL=1   no venv, no pip: use TA_TIERAGENT (default `tieragent` on PATH)
#   TA_TIERAGENT        the tieragent executable to run (default: the venv's python -I -m tieragent)
#   TA_PYTHON           the python that reads the JSON when TA_SKIP_INSTALL=1 (default python3)
# Every GitHub variable has a fallback: RUNNER_TEMP (a fresh temporary directory),
# GITHUB_OUTPUT (outputs go to stderr), GITHUB_STEP_SUMMARY (no summary), GITHUB_EVENT_NAME,
# GITHUB_BASE_REF and GITHUB_EVENT_PATH (no pull request or push event), GITHUB_ACTION_PATH
# (the repository this script lives in).
#
# The base (review, TA_BASE empty):
#   pull_request / pull_request_target  -> origin/$GITHUB_BASE_REF (the PR's target branch);
#   push                                -> the commit before the push (`before` in the event);
#   otherwise, or when that is missing  -> HEAD~1;
#   HEAD has no parent in the checkout  -> an empty diff ("nothing to review", exit 0), with a warning.
#   A base that is not a commit in the checkout (usually a shallow clone) is an error (exit 2).
#
# Exit code: tieragent's own (0 complete/fixed, 1 finding at --fail-on / not fixed, 3 budget,
# 4 provider, ...), so `fail-on` fails the job; 2 when an input is invalid or the install fails.
# Outputs are written on every way out: status, cost, exit-code, patch-path, sarif-path, json-path.
# A review that exits 2 stopped before it was done: its SARIF is removed and sarif-path left empty
# (the JSON report, which says why, is kept).

# No `set -e`: tieragent exiting non-zero is an outcome to report (outputs, summary), not a crash.
set -uo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

command_="${TA_COMMAND:-review}"
request="${TA_REQUEST:-}"
base="${TA_BASE:-}"
format="${TA_FORMAT:-github}"
fail_on="${TA_FAIL_ON:-high}"
models="${TA_MODELS:-}"
max_cost="${TA_MAX_COST:-}"
version="${TA_VERSION:-}"
skip_install="${TA_SKIP_INSTALL:-}"

# Everything tieragent writes for this step lives outside the repository, in the runner's temp dir.
tmp="${RUNNER_TEMP:-}"
if [[ -z "$tmp" ]]; then
  tmp="$(mktemp -d)"
fi
json_path="$tmp/tieragent.json"
sarif_path="$tmp/tieragent.sarif"
patch_path="$tmp/tieragent.patch"
request_path="$tmp/tieragent-request.md"
empty_diff="$tmp/tieragent-empty.diff"
venv="$tmp/tieragent-venv"
# A file left by an earlier use of the action in the same job must never pass for this run's.
rm -f "$json_path" "$sarif_path" "$patch_path" "$request_path"

# What finish() reports; updated as the run goes.
status=""
cost=""
code=2
message=""     # why the run stopped before tieragent could say (invalid input, failed install)
# The python that reads tieragent's JSON and renders the summary (the standard library is enough):
# the one setup-python put on PATH until the venv exists, then the venv's.
# Every python here runs with -I: the working directory is the checkout, which on a pull request is
# the PR's code, and without -I `python -c`/`-m` import from it first (a json.py or a pip/ package
# there would run in this step, with its keys). -I also ignores PYTHONPATH and the user's site.
# The scripts that read JSON also take -S: no site-packages and no .pth file runs, and they start in a
# third of the time.
boot_py="$(command -v python3 || command -v python || true)"
py="${TA_PYTHON:-$boot_py}"

# The report renderer: `fields JSON` prints the status and the cost (two lines), `summary JSON
# COMMAND EXIT STATUS MESSAGE` prints the Markdown step summary. Rendering the summary from the JSON
# means one tieragent run serves every --format (no second, paid, run for Markdown).
read -r -d '' REPORT_PY <<'PY'
import html
import json
import re
import sys

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
MAX_ROWS = 100
MAX_PATCH = 60000


def load(path):
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def cost_of(doc):
    totals = doc.get("totals")
    value = totals.get("cost_usd") if isinstance(totals, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, ".6f")
    if totals is None:  # no ledger at all: nothing was called
        return format(0, ".6f")
    return ""  # a model without a known price


def word(value):
    # Only a plain word goes into an output line or a code span.
    return re.sub(r"[^A-Za-z0-9_.-]", "", "" if value is None else str(value))


def cell(value):
    text = "" if value is None else str(value)
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def fence(text):
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def summary(doc, command, exit_code, status, message):
    out = [f"## tieragent {word(command)}", ""]
    if doc is None:
        out.append(f"**Status:** `{word(status)}` (exit {word(exit_code)})")
        if message:
            out += ["", cell(message)]
        return out
    cost = cost_of(doc)
    totals = doc.get("totals") if isinstance(doc.get("totals"), dict) else {}
    cost_text = f"${cost}" if cost else "unknown (a model has no known price)"
    if cost and totals.get("cost_complete") is False:
        cost_text += " (incomplete: a model has no known price)"
    out.append(f"**Status:** `{word(doc.get('status') or status)}` (exit {word(exit_code)}) · **Cost:** {cost_text}")
    if doc.get("error"):
        out += ["", f"**Error:** {cell(doc['error'])}"]
    # Such as a pull request's change to .tieragent.yaml that the review did not follow.
    warnings = list(dict.fromkeys(w for w in doc.get("warnings") or [] if isinstance(w, str)))
    if warnings:
        out += ["", "**Warnings:**", ""] + [f"- {cell(w)}" for w in warnings[:MAX_ROWS]]
    if command == "review":
        s = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
        out += ["", "{} files, {} hunks: {} reviewed, {} skipped without a model, {} not reviewed, {} findings.".format(
            *(word(s.get(k, 0)) for k in ("files", "hunks", "reviewed", "skipped", "unreviewed", "findings")))]
        findings = [f for f in doc.get("findings") or [] if isinstance(f, dict)]
        findings.sort(key=lambda f: (SEVERITY_ORDER.get(f.get("severity"), 9), str(f.get("path")), f.get("line") or 0))
        if findings:
            out += ["", "| severity | where | category | finding |", "|---|---|---|---|"]
            for f in findings[:MAX_ROWS]:
                where = cell(f.get("path")) + (f":{cell(f.get('line'))}" if f.get("line") is not None else "")
                text = cell(f.get("message"))
                if f.get("suggestion"):
                    text += "<br>Suggestion: " + cell(f.get("suggestion"))
                out.append(f"| {cell(f.get('severity'))} | `{where}` | {cell(f.get('category'))} | {text} |")
            if len(findings) > MAX_ROWS:
                out.append(f"\n…and {len(findings) - MAX_ROWS} more in the JSON report.")
        unreviewed = [u for u in doc.get("unreviewed") or [] if isinstance(u, dict)]
        if unreviewed:
            out += ["", "**Not reviewed:**", ""]
            out += [f"- `{cell(u.get('path'))}`: {cell(u.get('reason'))}" for u in unreviewed[:MAX_ROWS]]
    else:
        steps = [r for r in doc.get("steps") or [] if isinstance(r, dict)]
        if steps:
            out += ["", "| # | step | tier | model | tokens in/out | cost | outcome | note |", "|---|---|---|---|---|---|---|---|"]
            for i, r in enumerate(steps[:MAX_ROWS], 1):
                c = r.get("cost_usd")
                c = f"${c:.6f}" if isinstance(c, (int, float)) and not isinstance(c, bool) else "?"
                out.append(f"| {i} | {cell(r.get('step'))} | {cell(r.get('tier'))} | {cell(r.get('model'))} | "
                           f"{cell(r.get('input_tokens'))}/{cell(r.get('output_tokens'))} | {c} | "
                           f"{cell(r.get('outcome'))} | {cell(r.get('note'))} |")
        patch = doc.get("patch")
        if isinstance(patch, str) and patch:
            shown = patch if len(patch) <= MAX_PATCH else patch[:MAX_PATCH] + "\n… (truncated)\n"
            f = fence(shown)
            out += ["", "<details><summary>Patch</summary>", "", f + "diff", shown.rstrip("\n"), f, "", "</details>"]
    return out


mode, path = sys.argv[1], sys.argv[2]
doc = load(path)
if mode == "fields":
    if doc is None:
        sys.exit(1)
    print(word(doc.get("status")))
    print(cost_of(doc))
else:
    command, exit_code, status, message = sys.argv[3:7]
    print("\n".join(summary(doc, command, exit_code, status, message)))
PY

# The head repository of the event's pull request when it is not this repository (GitHub compares
# names without regard to case); a fork deleted since the PR opened has no repository at all.
read -r -d '' FORK_PY <<'PY'
import json
import re
import sys

with open(sys.argv[1], encoding="utf-8") as fh:
    pr = json.load(fh).get("pull_request") or {}
head = ((pr.get("head") or {}).get("repo") or {}).get("full_name") or "a deleted fork"
if head.lower() != sys.argv[2].lower():
    print(re.sub(r"[^A-Za-z0-9_. /-]", "", head))
PY

# A workflow command's data must escape %, CR and LF, or a value could end the command early.
gh_escape() {
  local s="$1"
  s="${s//'%'/%25}"
  s="${s//$'\r'/%0D}"
  s="${s//$'\n'/%0A}"
  printf '%s' "$s"
}

# On a pull_request from another repository, that repository's name; otherwise nothing.
fork_of_pull_request() {
  if [[ "${GITHUB_EVENT_NAME:-}" != pull_request || -z "${GITHUB_REPOSITORY:-}" || -z "$py" \
    || ! -f "${GITHUB_EVENT_PATH:-}" ]]; then
    return 0
  fi
  "$py" -I -S -c "$FORK_PY" "$GITHUB_EVENT_PATH" "$GITHUB_REPOSITORY" 2>/dev/null || true
}

# Write the outputs and the summary, then exit with tieragent's exit code (or ours).
finish() {
  local have_json=""
  if [[ -n "$py" && -s "$json_path" ]]; then
    local fields
    if fields="$("$py" -I -S -c "$REPORT_PY" fields "$json_path")"; then
      have_json=1
      status="$(printf '%s\n' "$fields" | sed -n 1p)"
      cost="$(printf '%s\n' "$fields" | sed -n 2p)"
    fi
  fi
  if [[ -z "$have_json" && -z "$message" ]]; then
    # tieragent ran but wrote no readable JSON: say so, and name the status after its exit code.
    printf '::warning::tieragent wrote no JSON report to %s; the status is derived from its exit code %s\n' \
      "$(gh_escape "$json_path")" "$code"
    message="tieragent wrote no JSON report; its output in the log says why."
  fi
  if [[ -z "$status" ]]; then
    case "$code" in
      0) if [[ "$command_" == fix ]]; then status=fixed; else status=passed; fi ;;
      1) status=failed ;;
      3) # fix: the budget ran out; review: some hunks went unreviewed (budget, or incomplete) - both are incomplete reviews
        if [[ "$command_" == fix ]]; then status=budget_exceeded; else status=incomplete; fi ;;
      *) status=error ;;
    esac
  fi

  if [[ "$command_" == review && "$code" == 2 ]]; then
    # Exit 2: the review stopped before it was done (no key, a config or base error). Its SARIF lacks
    # the hunks it never reviewed; uploaded, it would tell code scanning they have no alerts.
    rm -f "$sarif_path"
    local fork
    fork="$(fork_of_pull_request)"
    if [[ -n "$fork" ]]; then
      printf '::error::%s\n' "$(gh_escape "this pull request comes from a fork ($fork), and GitHub gives a pull_request workflow from a fork no secrets: the provider keys are empty. Skip fork pull requests with the job-level if: in examples/github/review.yml (its comments say when pull_request_target is safe instead).")"
    fi
  fi

  local patch_out="" sarif_out="" json_out=""
  if [[ "$command_" == fix && -s "$patch_path" ]]; then patch_out="$patch_path"; fi
  if [[ "$command_" == review && -s "$sarif_path" ]]; then sarif_out="$sarif_path"; fi
  if [[ -n "$have_json" ]]; then json_out="$json_path"; fi
  {
    printf 'status=%s\n' "$status"
    printf 'cost=%s\n' "$cost"
    printf 'exit-code=%s\n' "$code"
    printf 'patch-path=%s\n' "$patch_out"
    printf 'sarif-path=%s\n' "$sarif_out"
    printf 'json-path=%s\n' "$json_out"
  } >>"${GITHUB_OUTPUT:-/dev/stderr}"

  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    if [[ -z "$py" ]] \
      || ! "$py" -I -S -c "$REPORT_PY" summary "$json_path" "$command_" "$code" "$status" "$message" >>"$GITHUB_STEP_SUMMARY"; then
      printf '## tieragent %s\n\nstatus: %s (exit %s)\n\n%s\n' "$command_" "$status" "$code" "$message" >>"$GITHUB_STEP_SUMMARY"
    fi
  fi
  exit "$code"
}

# Stop before tieragent runs: an ::error:: annotation, exit 2 (usage, configuration or environment).
fail() {
  message="$1"
  printf '::error::%s\n' "$(gh_escape "$message")"
  status=error
  code=2
  finish
}

# --- validate every input before installing anything ------------------------------------------

case "$command_" in
  review | fix) ;;
  *) fail "command must be review or fix, not '$command_'" ;;
esac
case "$format" in
  text | json | markdown | github | sarif) ;;
  *) fail "format must be one of text, json, markdown, github, sarif, not '$format'" ;;
esac
case "$fail_on" in
  high | medium | low | never) ;;
  *) fail "fail-on must be one of high, medium, low, never, not '$fail_on'" ;;
esac
number_re='^([0-9]+([.][0-9]*)?|[.][0-9]+)$'
if [[ -n "$max_cost" && ! "$max_cost" =~ $number_re ]]; then
  fail "max-cost must be a number of US dollars such as 1.00, not '$max_cost'"
fi
if [[ "$version" == -* ]]; then
  fail "version must be a pip requirement or a path, not an option ('$version')"
fi
if [[ "$command_" == fix && -z "${request//[[:space:]]/}" ]]; then
  fail "command fix needs a request (the issue body, for instance); it is empty"
fi

# models: one `tier=provider/model` a line; blank lines and `#` comments are ignored. Each becomes
# TIERAGENT_TIERS__<TIER>__MODEL, which tieragent reads over .tieragent.yaml. Anything else (a
# typo'd tier, a key pasted by mistake, a model id without a provider) stops the run.
model_re='^(small|mid|frontier)[[:space:]]*=[[:space:]]*([A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.:/@+-]+)$'
seen_tiers=" "
model_exports=()
line_no=0
while IFS= read -r line || [[ -n "$line" ]]; do
  line_no=$((line_no + 1))
  line="${line%$'\r'}"
  # Trim surrounding whitespace (no extglob, no bash 4: macOS runners ship bash 3.2).
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  if [[ -z "$line" || "$line" == \#* ]]; then
    continue
  fi
  if [[ ! "$line" =~ $model_re ]]; then
    # Name what is wrong without echoing the value: a line may hold a key pasted by mistake.
    name="${line%%=*}"
    name="${name%"${name##*[![:space:]]}"}"
    if [[ "$line" != *=* ]]; then
      fail "models line $line_no is not tier=provider/model (e.g. small=openai/gpt-5-nano)"
    elif [[ ! "$name" =~ ^(small|mid|frontier)$ ]]; then
      fail "models line $line_no: '${name:0:40}' is not a tier (small, mid or frontier)"
    else
      fail "models line $line_no: the $name model is not a provider/model id such as openai/gpt-5-nano"
    fi
  fi
  tier="${BASH_REMATCH[1]}"
  model="${BASH_REMATCH[2]}"
  if [[ "$seen_tiers" == *" $tier "* ]]; then
    fail "models line $line_no sets the $tier tier a second time"
  fi
  seen_tiers="$seen_tiers$tier "
  case "$tier" in
    small) upper=SMALL ;;
    mid) upper=MID ;;
    frontier) upper=FRONTIER ;;
  esac
  model_exports+=("TIERAGENT_TIERS__${upper}__MODEL=$model")
done <<<"$models"

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  fail "$(pwd) is not a git checkout: run actions/checkout before tieragent"
fi

# --- review: what to review against -----------------------------------------------------------

review_target=()
if [[ "$command_" == review ]]; then
  event="${GITHUB_EVENT_NAME:-}"
  if [[ -z "$base" ]]; then
    case "$event" in
      pull_request | pull_request_target)
        if [[ -n "${GITHUB_BASE_REF:-}" ]]; then
          base="origin/$GITHUB_BASE_REF"
        fi
        ;;
      push)
        # The commit the branch pointed at before the push (all zeros for a new branch).
        if [[ -n "$py" && -n "${GITHUB_EVENT_PATH:-}" && -f "$GITHUB_EVENT_PATH" ]]; then
          before="$("$py" -I -S -c 'import json,sys; print(json.load(open(sys.argv[1])).get("before") or "")' \
            "$GITHUB_EVENT_PATH" 2>/dev/null || true)"
          if [[ "$before" =~ ^[0-9a-f]{7,64}$ && ! "$before" =~ ^0+$ ]] \
            && git rev-parse --verify --quiet "$before^{commit}" >/dev/null; then
            base="$before"
          fi
        fi
        ;;
    esac
  fi
  if [[ -z "$base" ]]; then
    if git rev-parse --verify --quiet "HEAD~1^{commit}" >/dev/null; then
      base="HEAD~1"
    fi
  fi
  if [[ -n "$base" ]]; then
    if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
      fail "base '$base' is not a commit in this checkout; check out with actions/checkout and fetch-depth: 0 (the merge-base needs the history)"
    fi
    review_target=(--base "$base")
  else
    printf '::warning::%s\n' "no base to review against: HEAD has no parent in this checkout (use fetch-depth: 0, or set the base input); reviewing an empty diff"
    : >"$empty_diff"
    review_target=(--diff "$empty_diff")
  fi
fi

# --- install ----------------------------------------------------------------------------------

if [[ "$skip_install" == 1 ]]; then
  tieragent=("${TA_TIERAGENT:-tieragent}")
  if [[ -z "$py" ]]; then
    fail "no python3 on PATH to read tieragent's report (set TA_PYTHON)"
  fi
else
  if [[ -z "$boot_py" ]]; then
    fail "no python on PATH: the action's setup-python step should have provided one"
  fi
  spec="${version:-${GITHUB_ACTION_PATH:-$script_dir/..}}"
  echo "::group::Install tieragent ($spec)"
  # An isolated venv: the project's own dependencies (and theirs) never meet tieragent's.
  if ! "$boot_py" -I -m venv "$venv"; then
    echo "::endgroup::"
    fail "could not create a virtual environment in $venv"
  fi
  bindir="$venv/bin"
  if [[ -d "$venv/Scripts" ]]; then bindir="$venv/Scripts"; fi # Windows runners
  if ! "$bindir/python" -I -m pip install --quiet --disable-pip-version-check "$spec"; then
    echo "::endgroup::"
    fail "pip could not install tieragent from '$spec'"
  fi
  echo "::endgroup::"
  py="$bindir/python"
  # -I: tieragent's own imports never come from the checkout, even when the workflow exported
  # PYTHONPATH=. for its tests (the variable stays in the environment the tests get).
  tieragent=("$py" -I -m tieragent)
  if [[ -n "${TA_TIERAGENT:-}" ]]; then tieragent=("$TA_TIERAGENT"); fi
fi

# --- run --------------------------------------------------------------------------------------

if [[ "$command_" == review ]]; then
  args=(review --ci --format "$format" --fail-on "$fail_on" --output "$json_path" --sarif "$sarif_path"
    "${review_target[@]}")
else
  # The request goes to a file, byte for byte (printf '%s' adds nothing and interprets nothing),
  # and tieragent reads it from there: it is never part of a command line either.
  printf '%s' "$request" >"$request_path"
  args=(fix --ci --request-file "$request_path" --output "$json_path" --patch-out "$patch_path")
fi
if [[ -n "$max_cost" ]]; then
  args+=(--max-cost "$max_cost")
fi

# A subshell exports the model variables for tieragent only; stdin is closed so nothing can wait
# for input. With --format github, tieragent's stdout (the annotations) goes straight to the log.
(
  for assignment in ${model_exports[@]+"${model_exports[@]}"}; do
    # shellcheck disable=SC2163 # exporting the NAME=value the variable holds is the point
    export "$assignment"
  done
  exec "${tieragent[@]}" "${args[@]}" </dev/null
)
code=$?
finish
