#!/usr/bin/env bash
# Ensures pinned developer tools exist and prints their absolute paths.
#
#   scripts/tools.sh terraform|tofu|tfplugindocs|golangci-lint|vault|all
#
# Only paths go to stdout (one per line) so callers can do
# TF=$(scripts/tools.sh terraform). Progress and errors go to stderr.
#
# Binaries are cached per version under
#   ${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-llmsecret/<tool>-<version>/bin/
# outside the repo clone, so they survive fresh clones and never get committed.
# Terraform and OpenTofu are built from source with the Go toolchain because
# the Go module proxy is the only reliably reachable download source.
set -euo pipefail
shopt -s inherit_errexit # make $(...) failures fatal too

TERRAFORM_VERSION=1.15.0
TOFU_VERSION=1.11.5
TFPLUGINDOCS_VERSION=0.25.0
GOLANGCI_LINT_VERSION=2.15.0
VAULT_VERSION=1.21.4
VAULT_SDK_VERSION=0.21.0 # the sdk release matching VAULT_VERSION's tree

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-llmsecret"

log() { echo "tools.sh: $*" >&2; }

# Unpacks module $1@$2 into a fresh dir under $3 and prints that dir.
# go mod download needs a module context; a throwaway one keeps the repo's
# go.mod untouched. The zip is read-only module-cache content, hence chmod.
unpack_module() {
  local mod=$1 ver=$2 work=$3 zip
  mkdir -p "$work/gomod" "$work/src"
  zip=$(cd "$work/gomod" && go mod init tmp >/dev/null 2>&1 &&
    go mod download -json "$mod@$ver" | sed -n 's/^[[:space:]]*"Zip": "\(.*\)",\{0,1\}$/\1/p')
  [[ -n $zip ]] || { echo "no zip for $mod@$ver" >&2; return 1; }
  unzip -q "$zip" -d "$work/src"
  chmod -R u+w "$work/src"
  echo "$work/src/$mod@$ver"
}

# Release builds set version.dev=no; without it `version` reports "-dev".
# -mod=mod lets go fix go.sum after we prune requirements below.
go_build() { # <pkg-dir> <out> <version-package>
  CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" \
    go build -trimpath -ldflags "-s -w -X '$3.dev=no'" -o "$2" "$1"
}

build_terraform() { # <version> <workdir> <out>
  local src
  src=$(unpack_module github.com/hashicorp/terraform "v$1" "$2")
  cd "$src"
  # The module zip omits nested modules (9 remote-state backends and
  # internal/legacy) that go.mod requires via local replace directives.
  # Backends are only wired in via backend/init; legacy is only used by a
  # _test.go file, so dropping its require/replace is enough.
  local backends='azure|consul|cos|gcs|kubernetes|oci|oss|pg|s3'
  sed -i -E "\#/internal/backend/remote-state/($backends)\"#d;
             /backend(Azure|Consul|Cos|GCS|Kubernetes|OCI|OSS|Pg|S3)\.New\(/d" \
    internal/backend/init/init.go
  sed -i -E "\#github.com/hashicorp/terraform/internal/(legacy|backend/remote-state/($backends))[[:space:]]#d" go.mod
  go_build . "$3" github.com/hashicorp/terraform/version
}

build_tofu() { # <version> <workdir> <out>
  local src
  src=$(unpack_module github.com/opentofu/opentofu "v$1" "$2")
  cd "$src"
  go_build ./cmd/tofu "$3" github.com/opentofu/opentofu/version
}

# Vault (only a test dependency: the vault store's tests run a dev server).
build_vault() { # <version> <workdir> <out>
  local src
  src=$(unpack_module github.com/hashicorp/vault "v$1" "$2")
  cd "$src"
  # go.mod points the api/sdk modules at nested dirs via local replace
  # directives; the module zip omits nested modules, so use released versions.
  sed -i -E '\#^replace github.com/hashicorp/vault/(api|sdk|api/auth/(approle|kubernetes|userpass)) => #d' go.mod
  go mod edit -require="github.com/hashicorp/vault/sdk@v$VAULT_SDK_VERSION"
  # The released sdk differs from the in-tree one at three call sites:
  # ActivationFunc takes an extra (unused here) string argument ...
  sed -i -E 's/^(func \(i \*IdentityStore\) activateDeduplication\(ctx context\.Context, req \*logical\.Request)\) error \{/\1, _ string) error {/' \
    vault/identity_store_util.go
  sed -i -E 's/(b\.idStoreBackend\.ActivationFunc\(ctx, nil)\)/\1, "")/' \
    vault/logical_system_activation_flags.go
  # ... and LockManager.RestorePolicy returns only an error; the restored key
  # keeps the requested name.
  sed -i -E 's/^([[:space:]]*)restoredKeyName, err := (b\.lm\.RestorePolicy\(.*\))$/\1err := \2\n\1restoredKeyName := keyName/' \
    builtin/logical/transit/path_restore.go
  grep -q '_ string) error {' vault/identity_store_util.go &&
    grep -q 'ActivationFunc(ctx, nil, "")' vault/logical_system_activation_flags.go &&
    grep -q 'restoredKeyName := keyName' builtin/logical/transit/path_restore.go ||
    { echo "vault $1: source patches did not apply" >&2; return 1; }
  # Vault has no version.dev variable (the linker ignores the -X); its
  # version comes from the embedded version/VERSION file.
  go_build . "$3" github.com/hashicorp/vault/version
}

# These two have no replace directives, so plain `go install mod@ver` works.
go_install() { # <pkg@ver> <workdir> <out> [go flags...]
  GOBIN="$2/gobin" go install "${@:4}" "$1"
  mv "$2/gobin/${3##*/}" "$3"
}
# tfplugindocs only knows its version via goreleaser ldflags ("dev" otherwise).
build_tfplugindocs() {
  go_install "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs@v$1" "$2" "$3" \
    -ldflags "-s -w -X github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs/build.version=$1"
}
build_golangci_lint() { go_install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v$1" "$2" "$3"; }

# ensure <tool> <version> <binary> <builder> <version-arg>
ensure() {
  local tool=$1 ver=$2 bin=$3 builder=$4 verarg=$5
  local dir="$CACHE/$tool-$ver"
  local out="$dir/bin/$bin"
  # Warm path: the binary only appears via an atomic mv after verification,
  # so its presence means it's complete; no lock needed.
  if [[ ! -x $out ]]; then
    mkdir -p "$dir/bin"
    (
      flock 9
      # Another copy may have finished the build while we waited.
      [[ -x $out ]] && exit 0
      rm -rf "$dir"/tmp.* # leftovers of interrupted builds; we hold the lock
      local tmp start=$SECONDS
      tmp=$(mktemp -d "$dir/tmp.XXXXXX") # same fs as $out => atomic mv
      # errexit is suspended inside `if`/`||` conditions, so the build runs as
      # a plain command and failures are reported from the EXIT trap instead.
      trap 'rc=$?; ((rc == 0)) || { log "$tool $ver FAILED, tail of $dir/build.log:"; tail -n 30 "$dir/build.log" >&2; }
            chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
      log "building $tool $ver (log: $dir/build.log)"
      "$builder" "$ver" "$tmp" "$tmp/$bin" >"$dir/build.log" 2>&1
      local vout
      vout=$("$tmp/$bin" $verarg 2>&1) || true
      echo "$vout" >>"$dir/build.log"
      [[ $vout == *"$ver"* ]] || { echo "'$bin $verarg' does not report $ver" >>"$dir/build.log"; exit 1; }
      mv -f "$tmp/$bin" "$out"
      log "built $tool $ver in $((SECONDS - start))s"
    ) 9>"$dir/.lock"
  fi
  echo "$out"
}

tool() {
  case $1 in
  terraform) CHECKPOINT_DISABLE=1 ensure terraform "$TERRAFORM_VERSION" terraform build_terraform version ;;
  tofu) ensure tofu "$TOFU_VERSION" tofu build_tofu version ;;
  tfplugindocs) ensure tfplugindocs "$TFPLUGINDOCS_VERSION" tfplugindocs build_tfplugindocs --version ;;
  golangci-lint) ensure golangci-lint "$GOLANGCI_LINT_VERSION" golangci-lint build_golangci_lint version ;;
  vault) ensure vault "$VAULT_VERSION" vault build_vault version ;;
  *) echo "usage: $0 terraform|tofu|tfplugindocs|golangci-lint|vault|all" >&2; return 2 ;;
  esac
}

if [[ ${1:-} == all ]]; then
  # Build concurrently (the terraform/tofu builds take minutes each), then
  # print paths in a fixed order. Each tool has its own lock.
  tools=(terraform tofu tfplugindocs golangci-lint vault)
  outdir=$(mktemp -d)
  trap 'rm -rf "$outdir"' EXIT
  pids=()
  for t in "${tools[@]}"; do
    tool "$t" >"$outdir/$t" &
    pids+=($!)
  done
  rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  for t in "${tools[@]}"; do cat "$outdir/$t"; done
  exit $rc
fi
tool "${1:-}"
