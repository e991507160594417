#!/usr/bin/env bash
# Ensures the pinned LiteLLM proxy exists and prints the absolute path of its
# `litellm` executable (the proxy CLI: litellm --config config.yaml). The
# install is scripts/litellm.sh's; see there.
exec "$(dirname "$0")/litellm.sh" proxy
