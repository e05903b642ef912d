#!/usr/bin/env bash
# Run the package's benchmarks COUNT times in one go test run, print
# benchstat's summary, and check the targets as ratios within the run, so
# that the machine's speed cancels out:
#
#   - RequireAuth costs at most a tenth of BenchmarkGorillaGobBaseline's
#     ns/op (the median of the runs of each);
#   - RequireAuth makes at most 12 allocations a request;
#   - the documented user's session cookie is at most 1,600 bytes.
#
# Exits 1 when a target is missed. Settings (environment): COUNT (default
# 6), BENCHTIME (default 1s).
set -euo pipefail
cd "$(dirname "$0")/.."

count=${COUNT:-6}
benchtime=${BENCHTIME:-1s}

out=$(mktemp)
trap 'rm -f "$out"' EXIT

go test -run '^$' -bench . -benchmem -count "$count" -benchtime "$benchtime" . | tee "$out" >/dev/null

if ! command -v benchstat >/dev/null 2>&1; then
	GOBIN="$PWD/.ci/bin" go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
	PATH="$PWD/.ci/bin:$PATH"
fi
benchstat "$out"
echo

# median NAME FIELD prints the median of the value before the unit FIELD
# (such as ns/op) over the runs of benchmark NAME.
median() {
	awk -v name="$1" -v unit="$2" '
		$1 ~ "^Benchmark" name "-[0-9]+$" {
			for (i = 2; i < NF; i++) if ($(i + 1) == unit) print $i
		}
	' "$out" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) exit 1
			print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		}
	'
}

auth_ns=$(median RequireAuth ns/op)
uncached_ns=$(median RequireAuthUncached ns/op)
baseline_ns=$(median GorillaGobBaseline ns/op)
auth_allocs=$(median RequireAuth allocs/op)
uncached_allocs=$(median RequireAuthUncached allocs/op)
cookie_bytes=$(median RequireAuth cookie-bytes)
baseline_bytes=$(median GorillaGobBaseline cookie-bytes)

ratio=$(awk -v a="$auth_ns" -v b="$baseline_ns" 'BEGIN { printf "%.4f", a / b }')
uncached_ratio=$(awk -v a="$uncached_ns" -v b="$baseline_ns" 'BEGIN { printf "%.4f", a / b }')

echo "medians of $count runs:"
printf '  RequireAuth            %10s ns/op %4s allocs/op  ratio to baseline %s (target at most 0.1)\n' "$auth_ns" "$auth_allocs" "$ratio"
printf '  RequireAuthUncached    %10s ns/op %4s allocs/op  ratio to baseline %s\n' "$uncached_ns" "$uncached_allocs" "$uncached_ratio"
printf '  GorillaGobBaseline     %10s ns/op\n' "$baseline_ns"
printf '  session cookie         %10s bytes (target at most 1600; the gob baseline: %s)\n' "$cookie_bytes" "$baseline_bytes"

status=0
awk -v r="$ratio" 'BEGIN { exit !(r > 0.1) }' && { echo "FAIL: RequireAuth costs more than a tenth of the baseline" >&2; status=1; }
awk -v a="$auth_allocs" 'BEGIN { exit !(a > 12) }' && { echo "FAIL: RequireAuth makes more than 12 allocations" >&2; status=1; }
awk -v c="$cookie_bytes" 'BEGIN { exit !(c > 1600) }' && { echo "FAIL: the session cookie is over 1,600 bytes" >&2; status=1; }

exit $status
