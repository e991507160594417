#!/usr/bin/env bash
# docs.sh generate|check: render docs/ with tfplugindocs from templates/ and
# examples/, feeding it the provider schema from the built Terraform so it never
# downloads anything. `check` renders into a scratch copy and fails when docs/
# or the examples' formatting differ from what is committed.
set -euo pipefail
mode="${1:-generate}"
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/scripts/tools.sh"
tf="$("$tools" terraform)"
tfplugindocs="$("$tools" tfplugindocs)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The schema, through the real CLI and a dev override of the fresh build.
go build -o "$work/bin/terraform-provider-llmsecret" "$root"
cat >"$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/llmsecret/llmsecret" = "$work/bin"
  }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc"
mkdir -p "$work/schema"
cat >"$work/schema/main.tf" <<'CFG'
terraform {
  required_providers {
    llmsecret = { source = "llmsecret/llmsecret" }
  }
}
CFG
(cd "$work/schema" && "$tf" providers schema -json >"$work/schema.json" 2>"$work/schema.err") ||
	{ cat "$work/schema.err" >&2; exit 1; }
# tfplugindocs looks the provider up by its short name.
sed -i 's#"registry\.terraform\.io/llmsecret/llmsecret":#"llmsecret":#' "$work/schema.json"

render() { # render <dir>: a copy of the repo's docs inputs rendered in <dir>
	local dir="$1"
	mkdir -p "$dir"
	cp -r "$root/templates" "$root/examples" "$dir/"
	(cd "$dir" && "$tfplugindocs" generate --provider-name llmsecret --providers-schema "$work/schema.json" \
		--rendered-provider-name llmsecret --website-source-dir templates --examples-dir examples \
		--rendered-website-dir docs >"$work/render.log" 2>&1) || { cat "$work/render.log" >&2; exit 1; }
}

case "$mode" in
generate)
	"$tf" fmt -recursive "$root/examples"
	render "$work/out"
	rm -rf "$root/docs"
	cp -r "$work/out/docs" "$root/docs"
	echo "docs: generated $(find "$root/docs" -name '*.md' | wc -l) pages"
	;;
check)
	if ! "$tf" fmt -check -recursive "$root/examples" >"$work/fmt.log"; then
		echo "docs-check: examples are not formatted (run 'make docs'):" >&2
		cat "$work/fmt.log" >&2
		exit 1
	fi
	render "$work/out"
	if ! diff -ru "$root/docs" "$work/out/docs" >"$work/diff.log"; then
		echo "docs-check: docs/ is stale; run 'make docs' and commit:" >&2
		head -50 "$work/diff.log" >&2
		exit 1
	fi
	echo "docs-check: docs/ is up to date ($(find "$root/docs" -name '*.md' | wc -l) pages)"
	;;
*)
	echo "usage: $0 generate|check" >&2
	exit 2
	;;
esac
