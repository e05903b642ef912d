#!/usr/bin/env bash
# Load the example app on loopback with wrk and compare a route behind
# RequireAuth, /api/me, with a public one, /api/health. Both return a small
# JSON object of two fields, so the difference is RequireAuth's cost. The
# routes take turns for ROUNDS rounds, so that drift in the machine's speed
# hits both. Prints each round's throughputs, p99 latencies and ratio, and
# exits 1 when the median ratio is below MIN_RATIO or the protected route's
# median p99 latency exceeds P99_BUDGET_MS.
#
# Settings (environment): DURATION (default 5s), ROUNDS (5),
# CONNECTIONS (16), THREADS (1), MIN_RATIO (0.85), P99_BUDGET_MS (25).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-5s}
rounds=${ROUNDS:-5}
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

# median prints the median of its arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "wrk -t$threads -c$connections -d$duration, $rounds rounds, example app on $url"
printf '%-6s %22s %10s %24s %10s %7s\n' round "/api/health requests/s" p99 "/api/me requests/s" p99 ratio

ratios=()
p99s=()
errors=0
for round in $(seq "$rounds"); do
	read -r public_rps public_p99 public_errors < <(load /api/health)
	read -r protected_rps protected_p99 protected_errors < <(load /api/me)

	ratio=$(awk -v a="$protected_rps" -v b="$public_rps" 'BEGIN { printf "%.3f", a / b }')
	ratios+=("$ratio")
	p99s+=("$protected_p99")
	errors=$((errors + public_errors + protected_errors))

	printf '%-6s %22s %8sms %24s %8sms %7s\n' "$round" "$public_rps" "$public_p99" "$protected_rps" "$protected_p99" "$ratio"
done

ratio=$(median "${ratios[@]}")
p99=$(median "${p99s[@]}")
echo "median throughput ratio, protected / public: $ratio (target at least $min_ratio)"
echo "median p99 latency of the protected route: ${p99} ms (budget ${p99_budget_ms} ms)"

status=0
if [[ $errors != 0 ]]; then
	echo "FAIL: $errors requests did not get 2xx" >&2
	status=1
fi
if awk -v r="$ratio" -v min="$min_ratio" 'BEGIN { exit !(r < min) }'; then
	echo "FAIL: the protected route keeps less than $min_ratio of the public throughput" >&2
	status=1
fi
if awk -v p="$p99" -v b="$p99_budget_ms" 'BEGIN { exit !(p > b) }'; then
	echo "FAIL: the protected route's p99 latency is over the ${p99_budget_ms} ms budget" >&2
	status=1
fi

exit $status
