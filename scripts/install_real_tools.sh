#!/usr/bin/env bash
# Installs the tools scripts/real_tool_checks.sh uses, into target/tools
# (or $AICR_TOOLS_DIR). Idempotent: a second run with everything present does
# nothing but check. After it, the checks run offline.
#
#   target/tools/venv          Python venv with helm-python-sdk (Helm v4's Go
#                              SDK as a library: loads and renders charts) and
#                              schemathesis (fuzzes aicrd from its OpenAPI)
#   target/tools/node_modules  @kubernetes-models/argo-cd and /flux-cd (JSON
#                              schema validators generated from the Argo CD and
#                              Flux CRDs), kubernetes-models (core API), ajv,
#                              yaml, ctrf (the CTRF JSON schema that
#                              `aicr validate` reports are checked against)
#   ShellCheck                 Debian package `shellcheck`, installed when
#                              missing and root
#   docker-registry, skopeo,   Debian packages `docker-registry` (the CNCF
#   htpasswd                   distribution registry), `skopeo` and
#                              `apache2-utils`, for the OCI push/pull tests
#                              (crates/aicr-cli/tests/it/oci.rs); installed
#                              when missing and root (openssl is assumed)
#
# kubectl (for `kubectl kustomize`) is used when the machine has it; it is
# not installed here.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${AICR_TOOLS_DIR:-$root/target/tools}"
mkdir -p "$tools"

# Pinned versions: what the checks were written and run against.
py_pkgs=(helm-python-sdk==0.2.2 schemathesis==4.32.5)
npm_pkgs=(
  @kubernetes-models/argo-cd@4.0.0
  @kubernetes-models/flux-cd@4.0.0
  kubernetes-models@5.1.0
  ajv@8.17.1
  yaml@2.8.1
  ctrf@0.3.0
)

# --- Python ---------------------------------------------------------------
py="$tools/venv/bin/python"
if [ ! -x "$py" ]; then
  echo "install_real_tools: creating venv $tools/venv"
  python3 -m venv "$tools/venv"
fi
if ! "$py" -c 'import helm_python, schemathesis' 2>/dev/null; then
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

# --- shellcheck -----------------------------------------------------------
if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install_real_tools: apt-get install shellcheck"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
  else
    echo "install_real_tools: shellcheck missing and not root: shellcheck checks will be skipped" >&2
  fi
fi

# --- OCI registry tools ---------------------------------------------------
oci_pkgs=()
command -v docker-registry >/dev/null 2>&1 || oci_pkgs+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || oci_pkgs+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || oci_pkgs+=(apache2-utils)
if [ "${#oci_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install_real_tools: apt-get install ${oci_pkgs[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${oci_pkgs[@]}" >/dev/null
  else
    echo "install_real_tools: ${oci_pkgs[*]} missing and not root: OCI registry tests will be skipped" >&2
  fi
fi

command -v kubectl >/dev/null 2>&1 ||
  echo "install_real_tools: kubectl not found: kustomize builds will be skipped" >&2

echo "install_real_tools: ready in $tools"
