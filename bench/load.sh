#!/usr/bin/env bash
# Load the example app on loopback with wrk and compare a route behind
# RequireAuth, /api/me, with a public one, /api/health. Both return a small
# JSON document, so the difference is RequireAuth's cost. Prints each
# route's throughput and p99 latency and the ratio of the throughputs, and
# exits 1 when the protected route keeps less than MIN_RATIO of the public
# throughput or its p99 latency exceeds P99_BUDGET_MS.
#
# Settings (environment): DURATION (default 10s), CONNECTIONS (16),
# THREADS (1), MIN_RATIO (0.85), P99_BUDGET_MS (25).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-10s}
connections=${CONNECTIONS:-16}
threads=${THREADS:-1}
min_ratio=${MIN_RATIO:-0.85}
p99_budget_ms=${P99_BUDGET_MS:-25}

if ! command -v wrk >/dev/null 2>&1; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

work=$(mktemp -d)
example_pid=
cleanup() {
	if [[ -n $example_pid ]]; then
		kill "$example_pid" 2>/dev/null || true
		wait "$example_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

keys="$(head -c 32 /dev/urandom | base64),$(head -c 32 /dev/urandom | base64)"

go build -o "$work/example" ./_example
go build -o "$work/sessioncookie" ./bench/sessioncookie

SESSION_KEYS=$keys ADDR=127.0.0.1:0 "$work/example" 2>"$work/example.log" &
example_pid=$!

url=
for _ in $(seq 100); do
	url=$(sed -n 's/.*msg="example serving" url=\(http[^ ]*\).*/\1/p' "$work/example.log")
	[[ -n $url ]] && break
	sleep 0.1
done
if [[ -z $url ]]; then
	echo "the example app did not start:" >&2
	cat "$work/example.log" >&2
	exit 1
fi

cookie=$(SESSION_KEYS=$keys "$work/sessioncookie")

# load PATH prints "requests_per_second p99_milliseconds errors" for PATH,
# sent with the session cookie, so that both routes parse the same headers.
load() {
	local out
	out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency -H "$cookie" "$url$1")
	echo "$out" >"$work/wrk$(tr / _ <<<"$1").txt"

	awk '
		/Requests\/sec:/ { rps = $2 }
		/^ +99%/ {
			v = $2
			if (v ~ /us$/) { sub(/us$/, "", v); p99 = v / 1000 }
			else if (v ~ /ms$/) { sub(/ms$/, "", v); p99 = v }
			else if (v ~ /s$/) { sub(/s$/, "", v); p99 = v * 1000 }
		}
		/Non-2xx or 3xx responses:/ { errors = $5 }
		/Socket errors:/ { errors += 1 }
		END { printf "%s %s %d\n", rps, p99, errors }
	' <<<"$out"
}

# Warm both routes up before measuring.
DURATION=2s load /api/health >/dev/null
DURATION=2s load /api/me >/dev/null

read -r public_rps public_p99 public_errors < <(load /api/health)
read -r protected_rps protected_p99 protected_errors < <(load /api/me)

ratio=$(awk -v a="$protected_rps" -v b="$public_rps" 'BEGIN { printf "%.3f", a / b }')

echo "wrk -t$threads -c$connections -d$duration, example app on $url"
printf '%-28s %12s %10s %8s\n' route requests/s p99 errors
printf '%-28s %12s %8sms %8s\n' "/api/health (public)" "$public_rps" "$public_p99" "$public_errors"
printf '%-28s %12s %8sms %8s\n' "/api/me (RequireAuth)" "$protected_rps" "$protected_p99" "$protected_errors"
echo "throughput ratio, protected / public: $ratio (target at least $min_ratio)"

status=0
if [[ $public_errors != 0 || $protected_errors != 0 ]]; then
	echo "FAIL: some requests did not get 2xx; see the wrk output above" >&2
	status=1
fi
if awk -v r="$ratio" -v min="$min_ratio" 'BEGIN { exit !(r < min) }'; then
	echo "FAIL: the protected route keeps less than $min_ratio of the public throughput" >&2
	status=1
fi
if awk -v p="$protected_p99" -v b="$p99_budget_ms" 'BEGIN { exit !(p > b) }'; then
	echo "FAIL: the protected route's p99 latency is over the ${p99_budget_ms} ms budget" >&2
	status=1
fi

exit $status
