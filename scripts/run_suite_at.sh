#!/usr/bin/env bash
# Run the test suite with the machine's clock moved to other dates (libfaketime), to prove
# that no test's outcome depends on the day it runs. The suite's own clock stays fixed
# (tests/conftest.py); only the wall clock moves, so anything that reads it shows up.
#
#   scripts/run_suite_at.sh                          # the whole suite at 2027-06-15, 2028-02-29, 2031-01-02
#   scripts/run_suite_at.sh 2031-01-02 -- tests/web  # chosen dates, chosen pytest arguments
#
# Needs faketime (Debian: apt-get install faketime). Exit 0 only if every date passed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dates=()
while [[ $# -gt 0 && "$1" != "--" ]]; do dates+=("$1"); shift; done
[[ "${1:-}" == "--" ]] && shift
[[ ${#dates[@]} -eq 0 ]] && dates=(2027-06-15 2028-02-29 2031-01-02)

if ! command -v faketime >/dev/null; then
    echo "[run_suite_at] faketime is not installed (apt-get install faketime)" >&2
    exit 2
fi
python3 dev.py setup >/dev/null || exit 2

failed=()
for day in "${dates[@]}"; do
    echo "[run_suite_at] === wall clock at ${day} 09:30 UTC ==="
    start=$SECONDS
    # '@' starts the fake clock at that instant and lets it run on; the venv's python is
    # used directly so dev.py's own checks are not part of the timing.
    faketime -f "@${day} 09:30:00" .venv/bin/python -c \
        "import datetime; print('[run_suite_at] python sees', datetime.datetime.now().isoformat())"
    faketime -f "@${day} 09:30:00" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
    rc=$?
    echo "[run_suite_at] ${day}: exit ${rc} after $((SECONDS - start)) s"
    [[ $rc -eq 0 ]] || failed+=("$day")
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "[run_suite_at] FAILED at: ${failed[*]}" >&2
    exit 1
fi
echo "[run_suite_at] passed at every date: ${dates[*]}"
