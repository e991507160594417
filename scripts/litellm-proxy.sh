#!/usr/bin/env bash
# Ensures the pinned LiteLLM proxy exists and prints the absolute path of its
# `litellm` executable (the proxy CLI: litellm --config config.yaml).
#
#   scripts/litellm-proxy.sh
#
# Only the path goes to stdout, so callers can do LITELLM=$(scripts/litellm-proxy.sh).
# Progress and errors go to stderr.
#
# `pip install 'litellm[proxy]==1.110.2'` can fail when a companion package the
# extra pins at an exact version (litellm-proxy, litellm-enterprise) is not
# served, so the proxy's dependencies are installed by name: the ones from the
# wheel's `extra == 'proxy'` requirements the proxy needs to start and serve a
# chat completion with aws_secret_manager. Every package is pinned by
# scripts/litellm-proxy-constraints.txt (pip freeze of a working install), in
# a virtual environment under
#   ${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-llmsecret/litellm-proxy-<version>/
# outside the repo clone. The proxy is a test peer only: the interop test
# TestInteropProxy_servesWithStoredKey starts it on what the provider wrote.
set -euo pipefail
shopt -s inherit_errexit

LITELLM_VERSION=1.110.2
PACKAGES=("litellm==$LITELLM_VERSION" uvicorn gunicorn uvloop fastapi starlette backoff pyyaml rq orjson
  apscheduler fastapi-sso pyjwt python-multipart cryptography pynacl websockets boto3 semver rich
  expression mcp restrictedpython soundfile)

root="$(cd "$(dirname "$0")/.." && pwd)"
constraints="$root/scripts/litellm-proxy-constraints.txt"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-llmsecret"
dir="$CACHE/litellm-proxy-$LITELLM_VERSION"
out="$dir/venv/bin/litellm"

log() { echo "litellm-proxy.sh: $*" >&2; }

# The marker holds a hash of the constraints, so a changed pin reinstalls.
want=$(sha256sum "$constraints" | cut -c1-16)
if [[ -x $out && -f $dir/ok && $(<"$dir/ok") == "$want" ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$dir"
(
  flock 9
  [[ -x $out && -f $dir/ok && $(<"$dir/ok") == "$want" ]] && exit 0
  python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || { log "$python not found: the LiteLLM proxy needs Python 3.10 or later (set PYTHON)"; exit 1; }
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    { log "$python is $("$python" --version 2>&1); litellm $LITELLM_VERSION needs 3.10 or later (set PYTHON)"; exit 1; }
  start=$SECONDS
  log "installing the litellm $LITELLM_VERSION proxy (log: $dir/install.log)"
  rm -rf "$dir/venv" "$dir/ok"
  trap 'rc=$?; ((rc == 0)) || { log "litellm proxy $LITELLM_VERSION FAILED, tail of $dir/install.log:"; tail -n 30 "$dir/install.log" >&2; }' EXIT
  {
    "$python" -m venv "$dir/venv"
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      -c "$constraints" "${PACKAGES[@]}"
  } >"$dir/install.log" 2>&1
  got=$(LITELLM_LOCAL_MODEL_COST_MAP=True "$dir/venv/bin/python" -c 'from importlib.metadata import version; print(version("litellm"))' 2>>"$dir/install.log")
  [[ $got == "$LITELLM_VERSION" ]] || { echo "installed litellm reports $got, want $LITELLM_VERSION" >>"$dir/install.log"; exit 1; }
  [[ -x $out ]] || { echo "no $out after install" >>"$dir/install.log"; exit 1; }
  echo "$want" >"$dir/ok"
  log "installed the litellm $LITELLM_VERSION proxy in $((SECONDS - start))s"
) 9>"$dir/.lock"
echo "$out"
