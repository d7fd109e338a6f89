#!/usr/bin/env bash
# Installs the tools scripts/real_tool_checks.sh uses, into target/tools
# (or $AICR_TOOLS_DIR). Idempotent: a second run with everything present does
# nothing but check. After it, the checks run offline.
#
#   target/tools/venv          Python venv with helm-python-sdk (Helm v4's Go
#                              SDK as a library: loads and renders charts),
#                              schemathesis (fuzzes aicrd from its OpenAPI),
#                              cyclonedx-python-lib (validates bom.cdx.json
#                              against the CycloneDX 1.6 schema),
#                              securesystemslib (DSSE envelopes: verifies our
#                              bundle attestations), sigstore-protobuf-specs
#                              (the Sigstore bundle model they must parse as)
#                              and mcp (the official MCP Python SDK, which
#                              drives `aicr mcp` and aicrd's /mcp through
#                              scripts/mcp_client.py)
#   target/tools/node_modules  @kubernetes-models/argo-cd and /flux-cd (JSON
#                              schema validators generated from the Argo CD and
#                              Flux CRDs), kubernetes-models (core API), ajv,
#                              yaml, ctrf (the CTRF JSON schema that
#                              `aicr validate` reports are checked against),
#                              mermaid and jsdom (Mermaid's own parser reads
#                              `aicr recipe -t mermaid`)
#   Debian packages            shellcheck (scripts), graphviz (`dot` renders
#                              `aicr recipe -t dot`), docker-registry (the
#                              CNCF distribution registry), skopeo and
#                              apache2-utils (htpasswd) for the OCI push/pull
#                              tests (crates/aicr-cli/tests/it/oci.rs);
#                              installed when missing and root (openssl is
#                              assumed)
#
# kubectl (for `kubectl kustomize`) is used when the machine has it; it is
# not installed here.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${AICR_TOOLS_DIR:-$root/target/tools}"
mkdir -p "$tools"

# Pinned versions: what the checks were written and run against.
py_pkgs=(
  helm-python-sdk==0.2.2
  schemathesis==4.32.5
  'cyclonedx-python-lib[json-validation]==11.12.0'
  'securesystemslib[crypto]==1.6.0'
  sigstore-protobuf-specs==0.5.2
  mcp==2.3.0
)
npm_pkgs=(
  @kubernetes-models/argo-cd@4.0.0
  @kubernetes-models/flux-cd@4.0.0
  kubernetes-models@5.1.0
  ajv@8.17.1
  yaml@2.8.1
  ctrf@0.3.0
  mermaid@11.17.2
  jsdom@26.1.0
)

# --- Python ---------------------------------------------------------------
py="$tools/venv/bin/python"
if [ ! -x "$py" ]; then
  echo "install_real_tools: creating venv $tools/venv"
  python3 -m venv "$tools/venv"
fi
if ! "$py" -c 'import helm_python, schemathesis, cyclonedx.validation.json, jsonschema, securesystemslib.dsse, sigstore_protobuf_specs, cryptography, mcp.client.streamable_http' 2>/dev/null; then
  echo "install_real_tools: pip install ${py_pkgs[*]}"
  "$py" -m pip install --quiet --disable-pip-version-check "${py_pkgs[@]}"
fi
"$py" -c 'import helm_python' >/dev/null

# --- npm ------------------------------------------------------------------
need_npm=0
for p in "${npm_pkgs[@]}"; do
  name="${p%@*}"
  [ -f "$tools/node_modules/$name/package.json" ] || need_npm=1
done
if [ "$need_npm" = 1 ]; then
  echo "install_real_tools: npm install ${npm_pkgs[*]}"
  [ -f "$tools/package.json" ] || echo '{"name":"aicr-real-tools","private":true}' >"$tools/package.json"
  (cd "$tools" && npm install --no-audit --no-fund --loglevel=error "${npm_pkgs[@]}")
fi

# --- Debian packages ------------------------------------------------------
# command:package pairs; installed when the command is missing and we are
# root (CI is), otherwise the checks that need them say so.
deb_tools=(
  shellcheck:shellcheck
  dot:graphviz
  docker-registry:docker-registry
  skopeo:skopeo
  htpasswd:apache2-utils
)
missing=()
for pair in "${deb_tools[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install_real_tools: apt-get install ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "install_real_tools: ${missing[*]} missing and not root: their checks will be skipped" >&2
  fi
fi

command -v kubectl >/dev/null 2>&1 ||
  echo "install_real_tools: kubectl not found: kustomize builds will be skipped" >&2

echo "install_real_tools: ready in $tools"
