#!/usr/bin/env bash
# Run the whole suite as if it were another day: a DST change in Berlin and in
# New York, a year-end night, and years ahead. libfaketime (Debian: faketime)
# shifts the clock by a relative offset, so every child process the suite
# starts shares the same shifted clock.
#
#   tests/any-date.sh                         the default moments below
#   tests/any-date.sh "2031-06-01 12:00"      your own (UTC), any number
#   PYTEST_ARGS="tests/unit -x" tests/any-date.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
command -v faketime >/dev/null || { echo "needs faketime: apt-get install faketime" >&2; exit 2; }

if [ "$#" -eq 0 ]; then
  # Minutes before the next clock changes (so the run straddles them), then fixed far dates.
  mapfile -t moments < <("$python" - <<'PY'
from datetime import timedelta
from tests.moments import BERLIN, NEW_YORK, at, next_clock_change
for tz, forward, hour in ((BERLIN, True, 1), (NEW_YORK, False, 1)):
    change = at(next_clock_change(tz, forward=forward), hour, 55, tz)
    print(f"{change:%Y-%m-%d %H:%M}")
print("2037-12-31 23:57")
print("2031-01-01 00:00")
PY
  )
  set -- "${moments[@]}"
fi

status=0
for moment in "$@"; do
  offset=$("$python" -c "import sys, datetime as d; t = d.datetime.fromisoformat(sys.argv[1]).replace(tzinfo=d.UTC); print(int((t - d.datetime.now(d.UTC)).total_seconds()))" "$moment")
  echo "== suite at $moment UTC (offset ${offset}s)"
  # shellcheck disable=SC2086
  if ! faketime -f "+${offset}" "$python" -m pytest -q -p no:cacheprovider ${PYTEST_ARGS:-}; then
    echo "!! failed at $moment UTC"
    status=1
  fi
done
exit $status
