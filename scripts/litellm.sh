#!/usr/bin/env bash
# Ensures the pinned LiteLLM test client exists and prints the absolute path of
# the Python interpreter of its virtual environment.
#
#   scripts/litellm.sh          the client: prints the venv's python
#   scripts/litellm.sh proxy    the proxy: prints its `litellm` executable
#                               (scripts/litellm-proxy.sh calls this)
#
# Only the path goes to stdout, so callers can do PY=$(scripts/litellm.sh).
# Progress and errors go to stderr.
#
# LiteLLM (litellm on PyPI, no proxy extras) and the official Python SDKs its
# secret readers use (azure-keyvault-secrets + azure-identity,
# google-cloud-secret-manager, google-cloud-kms; boto3 and python-dotenv come
# with litellm) are installed with every dependency pinned by
# scripts/litellm-constraints.txt, into a virtual environment under
#   ${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-llmsecret/litellm-<version>/
# outside the repo clone. Python is a test client only: the interop tests
# (internal/interop) run LiteLLM's own readers against what the provider wrote.
#
# The proxy gets a venv of its own (litellm-proxy-<version>/, pinned by
# scripts/litellm-proxy-constraints.txt): `pip install 'litellm[proxy]==X'`
# can fail when a companion package the extra pins at an exact version
# (litellm-proxy, litellm-enterprise) is not served, so the proxy's
# dependencies are installed by name, those from the wheel's
# `extra == 'proxy'` requirements the proxy needs to start and serve a chat
# completion with aws_secret_manager.
set -euo pipefail
shopt -s inherit_errexit

LITELLM_VERSION=1.110.2
root="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-llmsecret"
case "${1:-client}" in
client)
  what="the LiteLLM client"
  PACKAGES=("litellm==$LITELLM_VERSION" azure-identity azure-keyvault-secrets google-cloud-secret-manager google-cloud-kms)
  constraints="$root/scripts/litellm-constraints.txt"
  dir="$CACHE/litellm-$LITELLM_VERSION"
  out="$dir/venv/bin/python"
  ;;
proxy)
  what="the LiteLLM proxy"
  PACKAGES=("litellm==$LITELLM_VERSION" uvicorn gunicorn uvloop fastapi starlette backoff pyyaml rq orjson
    apscheduler fastapi-sso pyjwt python-multipart cryptography pynacl websockets boto3 semver rich
    expression mcp restrictedpython soundfile)
  constraints="$root/scripts/litellm-proxy-constraints.txt"
  dir="$CACHE/litellm-proxy-$LITELLM_VERSION"
  out="$dir/venv/bin/litellm"
  ;;
*)
  echo "usage: scripts/litellm.sh [client|proxy]" >&2
  exit 2
  ;;
esac

log() { echo "litellm.sh: $*" >&2; }

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
  command -v "$python" >/dev/null || { log "$python not found: $what needs Python 3.10 or later (set PYTHON)"; exit 1; }
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    { log "$python is $("$python" --version 2>&1); litellm $LITELLM_VERSION needs 3.10 or later (set PYTHON)"; exit 1; }
  start=$SECONDS
  log "installing $what, litellm $LITELLM_VERSION (log: $dir/install.log)"
  rm -rf "$dir/venv" "$dir/ok"
  trap 'rc=$?; ((rc == 0)) || { log "$what $LITELLM_VERSION FAILED, tail of $dir/install.log:"; tail -n 30 "$dir/install.log" >&2; }' EXIT
  {
    "$python" -m venv "$dir/venv"
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      -c "$constraints" "${PACKAGES[@]}"
  } >"$dir/install.log" 2>&1
  got=$(LITELLM_LOCAL_MODEL_COST_MAP=True "$dir/venv/bin/python" -c 'from importlib.metadata import version; print(version("litellm"))' 2>>"$dir/install.log")
  [[ $got == "$LITELLM_VERSION" ]] || { echo "installed litellm reports $got, want $LITELLM_VERSION" >>"$dir/install.log"; exit 1; }
  [[ -x $out ]] || { echo "no $out after install" >>"$dir/install.log"; exit 1; }
  echo "$want" >"$dir/ok"
  log "installed $what, litellm $LITELLM_VERSION, in $((SECONDS - start))s"
) 9>"$dir/.lock"
echo "$out"
