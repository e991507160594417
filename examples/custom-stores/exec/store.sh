#!/bin/sh
# Reference exec store for the llmsecret provider's custom store:
#
#   custom = { command = ["/path/to/store.sh", "-file", "/path/to/secrets.json"] }
#
# The provider runs this once per operation with one JSON request on stdin
# and reads one JSON answer from stdout (see the custom store guide). The
# protocol is implemented by main.go beside this script: JSON must round-trip
# any string exactly, which a POSIX shell cannot do safely without extra
# tools, and Go is all this needs. The script builds the helper once (again
# when main.go changes) into the user cache, then replaces itself with it.
# Replace the last line with your own program to plug in another store.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
cache="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/terraform-provider-llmsecret/custom-store-exec"
bin="$cache/exec-store"
if [ ! -x "$bin" ] || [ "$here/main.go" -nt "$bin" ]; then
	mkdir -p "$cache"
	tmp="$bin.$$.tmp"
	# Build output goes to stderr: stdout carries only the JSON answer.
	(cd "$here" && go build -o "$tmp" .) >&2
	mv -f "$tmp" "$bin"
fi
exec "$bin" "$@"
