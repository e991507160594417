#!/usr/bin/env bash
# make demo: build the provider, apply examples/quickstart on the local store
# with a random key, read it back through the data source, and say whether the
# round trip worked. The key is never printed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tf="$("$root/scripts/tools.sh" terraform)"

work="$(mktemp -d)"
trap '[[ -n "${KEEP:-}" ]] || rm -rf "$work"' EXIT
go build -o "$work/bin/terraform-provider-llmsecret" "$root"
cp "$root"/examples/quickstart/*.tf "$work/"
cat >"$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/llmsecret/llmsecret" = "$work/bin"
  }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1
TF_VAR_openai_api_key="sk-demo-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
export TF_VAR_openai_api_key

cd "$work"
"$tf" apply -auto-approve -input=false -no-color >apply.log 2>&1 || { cat apply.log; exit 1; }
# The key must never be printed. In state, only the data source holds it
# (sensitive, as data sources do); the resource used value_wo and holds none.
if grep -qF "$TF_VAR_openai_api_key" apply.log; then
	echo "demo: FAILED: the key appears in the apply output ($work)" >&2
	exit 1
fi
if [[ "$(grep -cF "$TF_VAR_openai_api_key" terraform.tfstate)" != 1 ]]; then
	echo "demo: FAILED: the key is in state outside the data source ($work)" >&2
	exit 1
fi
ok="$("$tf" output -raw round_trip_ok)"
full="$("$tf" output -raw full_name)"
mode="$(stat -c %a .env)"
if [[ "$ok" != "true" ]]; then
	echo "demo: FAILED: the value read back differs from the value written" >&2
	exit 1
fi
echo "demo: wrote $full to the local store ($work/.env, mode $mode) with $("$tf" version | head -1),"
echo "demo: read it back through data.llmsecret_secret and it matched; the value was never printed, and the resource (value_wo) kept it out of state."
"$tf" destroy -auto-approve -input=false -no-color >destroy.log 2>&1 || { cat destroy.log; exit 1; }
echo "demo: destroyed; OK"
