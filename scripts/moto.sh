#!/usr/bin/env bash
# Ensures the pinned moto AWS emulator (server mode) exists and prints the
# absolute path of its moto_server executable.
#
#   scripts/moto.sh
#
# Only the path goes to stdout, so callers can do MOTO=$(scripts/moto.sh).
# Progress and errors go to stderr.
#
# moto comes from PyPI (moto[server]) with every dependency pinned by
# scripts/moto-constraints.txt, into a virtual environment under
#   ${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-llmsecret/moto-<version>/
# outside the repo clone, so it survives fresh clones and is never committed.
# The tests of the aws_secret_manager and aws_kms stores call this script
# (internal/backends/awsconfig/awstest), so `go test` works on a clean machine
# that has Go and Python 3.9+ (python3, or $PYTHON).
#
# Warm runs take no lock: the "ok" marker is written last, under the lock,
# after the installed server reported the pinned version.
set -euo pipefail
shopt -s inherit_errexit

MOTO_VERSION=5.2.5

root="$(cd "$(dirname "$0")/.." && pwd)"
constraints="$root/scripts/moto-constraints.txt"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-llmsecret"
dir="$CACHE/moto-$MOTO_VERSION"
out="$dir/venv/bin/moto_server"

log() { echo "moto.sh: $*" >&2; }

if [[ -f $dir/ok && -x $out ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$dir"
(
  flock 9
  # Another copy may have finished the install while we waited.
  [[ -f $dir/ok && -x $out ]] && exit 0
  python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || { log "$python not found: moto needs Python 3.9 or later (set PYTHON)"; exit 1; }
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
    { log "$python is $("$python" --version 2>&1); moto $MOTO_VERSION needs 3.9 or later (set PYTHON)"; exit 1; }
  start=$SECONDS
  log "installing moto[server]==$MOTO_VERSION (log: $dir/install.log)"
  # A virtual environment is not relocatable, so it is built in place; the
  # marker, not the directory, says it is complete.
  rm -rf "$dir/venv" "$dir/ok"
  trap 'rc=$?; ((rc == 0)) || { log "moto $MOTO_VERSION FAILED, tail of $dir/install.log:"; tail -n 30 "$dir/install.log" >&2; }' EXIT
  {
    "$python" -m venv "$dir/venv"
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      -c "$constraints" "moto[server]==$MOTO_VERSION"
  } >"$dir/install.log" 2>&1
  got=$("$dir/venv/bin/python" -c 'import moto; print(moto.__version__)' 2>>"$dir/install.log")
  [[ $got == "$MOTO_VERSION" ]] || { echo "installed moto reports $got, want $MOTO_VERSION" >>"$dir/install.log"; exit 1; }
  [[ -x $out ]] || { echo "no $out after install" >>"$dir/install.log"; exit 1; }
  touch "$dir/ok"
  log "installed moto $MOTO_VERSION in $((SECONDS - start))s"
) 9>"$dir/.lock"
echo "$out"
