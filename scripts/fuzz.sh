#!/usr/bin/env bash
# fuzz.sh [duration]: run every Fuzz target in the module for a bounded time
# each (seed corpora under testdata/fuzz run in every plain `go test` too).
set -euo pipefail
fuzztime="${1:-10s}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
total=0
while IFS=: read -r file target; do
	pkg="./$(dirname "$file")"
	echo "fuzz: $target in $pkg for $fuzztime"
	fuzz() { go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" 2>&1; }
	if ! out="$(fuzz)"; then
		# Go's fuzzing engine itself fails with a bare "context deadline
		# exceeded" (no input, no file:line) when a worker is still busy as
		# -fuzztime runs out. A real failure writes its input to testdata.
		if grep -q 'Failing input written to' <<<"$out" || ! grep -q '^    context deadline exceeded$' <<<"$out"; then
			echo "$out"
			exit 1
		fi
		echo "fuzz: $target: the fuzzing engine timed out stopping a worker (no failing input); running it again"
		out="$(fuzz)" || { echo "$out"; exit 1; }
	fi
	execs="$(grep -oE 'execs: [0-9]+' <<<"$out" | tail -1 | grep -oE '[0-9]+' || echo 0)"
	echo "fuzz: $target: $execs executions, no failure"
	total=$((total + execs))
done < <(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' . | sed -E 's#^\./##; s#:func (Fuzz[A-Za-z0-9_]+)\(.*#:\1#')
echo "fuzz: $total executions in all"
