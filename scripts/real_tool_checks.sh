#!/usr/bin/env bash
# Real-tool checks of generated bundles: what `aicr bundle` writes must be
# accepted by the tools that will consume it, not only match the corpus.
#
#   scripts/install_real_tools.sh   # once (network: PyPI, npm, Debian)
#   scripts/real_tool_checks.sh     # offline afterwards
#
# Bundles: recipes eks/h100/ubuntu/training/kubeflow and
# eks/gb200/ubuntu/inference/dynamo from the embedded catalog, each with every
# deployer (helm, helmfile, argocd, argocd-helm, flux), plus argocd-helm and
# flux with --dynamic paths, node selectors/tolerations and --repo.
#
# Checks (one line each, `ok ...` or `FAIL ...`):
#   helm     every local chart (NNN-*-pre/-post/manifest-only, flux local
#            charts, the argocd-helm bundle chart) is linted and rendered by
#            Helm v4's own code (helm-python-sdk, scripts/helm_render_check.py)
#   bash     every *.sh passes `bash -n`, and `shellcheck -S error` when
#            ShellCheck is installed
#   schema   Argo CD Applications (argocd files; argocd-helm templates as Helm
#            renders them), Flux HelmRelease/HelmRepository/GitRepository,
#            ConfigMap: CRD/OpenAPI schemas via @kubernetes-models validators;
#            helmfile.yaml and kustomization.yaml: our structural schemas
#            (scripts/real_tool_schemas); cross references
#            (scripts/validate_gitops_docs.mjs)
#   kustomize the flux bundle builds with `kubectl kustomize` (when kubectl
#            is on PATH)
# Last line: `N passed, M failed` (`, K skipped` when a tool is missing).
#
# Environment: AICR_BIN (use this aicr instead of building
# target/release/aicr), AICR_TOOLS_DIR (default target/tools),
# AICR_CHECK_DIR (work dir, default target/real-tool-checks).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${AICR_TOOLS_DIR:-$root/target/tools}"
work="${AICR_CHECK_DIR:-$root/target/real-tool-checks}"
py="$tools/venv/bin/python"
export AICR_TOOLS_DIR="$tools"

passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "ok $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*" | tr -s '\n ' ' ' | cut -c1-600; echo; }
skip() { skipped=$((skipped + 1)); }
# Runs a helper that prints `ok `/`FAIL ` lines and counts them; a helper
# that exits non-zero without any FAIL line counts as one failure.
tally() {
  local out="$work/tally.out" rc line before="$failed"
  "$@" >"$out" 2>&1
  rc=$?
  while IFS= read -r line; do
    case "$line" in
      "ok "*) passed=$((passed + 1)) ;;
      "FAIL "*) failed=$((failed + 1)) ;;
    esac
    echo "$line"
  done <"$out"
  if [ "$rc" != 0 ] && [ "$failed" = "$before" ]; then
    fail "$(basename "$2") exited $rc"
  fi
}

if [ ! -x "$py" ] || [ ! -d "$tools/node_modules/@kubernetes-models" ]; then
  echo "real_tool_checks: tools missing in $tools: run scripts/install_real_tools.sh first" >&2
  exit 2
fi

# --- aicr ---------------------------------------------------------------
if [ -n "${AICR_BIN:-}" ]; then
  aicr="$AICR_BIN"
else
  (cd "$root" && cargo build --release --quiet -p aicr-cli --bin aicr) || exit 2
  aicr="${CARGO_TARGET_DIR:-$root/target}/release/aicr"
fi

rm -rf "$work"
mkdir -p "$work/bundles" "$work/rendered"
work="$(cd "$work" && pwd)"

# --- recipes and bundles -------------------------------------------------
# The inference recipe needs the two Gateway API manifests the catalog does
# not carry (recipes/external-manifests.yaml). Use the reference catalog's
# copies when ../shared is beside the repo, else small stand-in CRDs.
data="$work/data"
ext="$data/components/agentgateway-crds/manifests"
mkdir -p "$ext"
cp "$root/recipes/registry.yaml" "$data/"
shared_ext="$root/../shared/conformance/upstream-catalog/components/agentgateway-crds/manifests"
for f in gateway-api-crds.yaml inference-extension-crds.yaml; do
  if [ -f "$shared_ext/$f" ]; then
    cp "$shared_ext/$f" "$ext/$f"
  else
    echo "note: $f: ../shared not found, using a stand-in CRD"
    name="${f%-crds.yaml}"
    cat >"$ext/$f" <<EOF
# Stand-in for the upstream manifest (not available offline).
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${name}s.stand-in.aicr.example
spec:
  group: stand-in.aicr.example
  names: {kind: StandIn${#name}, plural: ${name}s}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object}}
EOF
  fi
done

recipe() { # name, criteria...
  local name="$1"
  shift
  if "$aicr" recipe "$@" -o "$work/$name.yaml" 2>"$work/$name.err"; then
    ok "recipe $name"
  else
    fail "recipe $name: $(cat "$work/$name.err")"
  fi
}
recipe training --service eks --accelerator h100 --os ubuntu --intent training --platform kubeflow
recipe inference --service eks --accelerator gb200 --os ubuntu --intent inference --platform dynamo

bundles=()
bundle() { # dir, recipe, deployer, extra args...
  local dir="$1" rec="$2" dep="$3"
  shift 3
  if "$aicr" bundle -r "$work/$rec.yaml" --data "$data" -d "$dep" -o "$work/bundles/$dir" "$@" \
    >/dev/null 2>"$work/bundles/$dir.err"; then
    ok "bundle $dir"
    bundles+=("$dir")
  else
    fail "bundle $dir: $(cat "$work/bundles/$dir.err")"
  fi
}
for dep in helm helmfile argocd argocd-helm flux; do
  bundle "$dep-training" training "$dep"
  bundle "$dep-inference" inference "$dep"
done
dyn=(--dynamic gpu-operator:driver.version --dynamic gpu-operator:toolkit.enabled
  --accelerated-node-selector nodeGroup=gpu
  --accelerated-node-toleration nvidia.com/gpu=present:NoSchedule
  --system-node-selector nodeGroup=system
  --repo https://github.com/example/gitops.git)
bundle argocd-helm-dynamic training argocd-helm "${dyn[@]}"
bundle flux-dynamic training flux "${dyn[@]}"

# --- checks per bundle ---------------------------------------------------
have_shellcheck=0
command -v shellcheck >/dev/null 2>&1 && have_shellcheck=1
have_kubectl=0
command -v kubectl >/dev/null 2>&1 && have_kubectl=1

cd "$work" || exit 2 # shorter labels: bundles/<dir>/...
for dir in "${bundles[@]}"; do
  b="bundles/$dir"
  dep="${dir%-*}"
  echo "== $dir"

  # Scripts.
  while IFS= read -r sh; do
    rel="$dir/${sh#"$b"/}"
    if err="$(bash -n "$sh" 2>&1)"; then ok "bash -n $rel"; else fail "bash -n $rel: $err"; fi
    if [ "$have_shellcheck" = 1 ]; then
      if err="$(shellcheck -S error "$sh" 2>&1)"; then ok "shellcheck $rel"; else fail "shellcheck $rel: $err"; fi
    else
      skip
    fi
  done < <(find "$b" -name '*.sh' | sort)

  # Local charts under the bundle (not the argocd-helm bundle chart itself).
  charts=()
  while IFS= read -r c; do charts+=("$(dirname "$c")"); done \
    < <(find "$b" -mindepth 2 -name Chart.yaml | sort)
  if [ "${#charts[@]}" -gt 0 ]; then
    tally "$py" "$root/scripts/helm_render_check.py" "${charts[@]}"
  fi

  # Tool documents.
  docs=()
  case "$dep" in
    helmfile) docs=("$b/helmfile.yaml") ;;
    argocd)
      docs=("$b/app-of-apps.yaml")
      while IFS= read -r f; do docs+=("$f"); done < <(find "$b" -mindepth 2 -maxdepth 2 -name application.yaml | sort)
      ;;
    argocd-helm)
      out="rendered/$dir"
      tally "$py" "$root/scripts/helm_render_check.py" --out "$out" \
        --set repoURL=oci://registry.example/aicr/aicr-bundle "$b"
      while IFS= read -r f; do docs+=("$f"); done < <(find "$out" -name '*.yaml' | sort)
      ;;
    flux)
      docs=("$b/kustomization.yaml")
      while IFS= read -r f; do docs+=("$b/$f"); done \
        < <(sed -n 's/^  - //p' "$b/kustomization.yaml")
      if [ "$have_kubectl" = 1 ]; then
        if err="$(kubectl kustomize "$b" 2>&1 >"$work/$dir.kustomized.yaml")"; then
          ok "kustomize build $dir ($(grep -c '^kind:' "$work/$dir.kustomized.yaml") objects)"
        else
          fail "kustomize build $dir: $err"
        fi
      else
        skip
      fi
      ;;
  esac
  if [ "${#docs[@]}" -gt 0 ]; then
    tally node "$root/scripts/validate_gitops_docs.mjs" --root "$b" "${docs[@]}"
  fi
done

# aicrd's own deployment: Helm lints and renders its chart (default values
# and autoscaling off), and every object, rendered or raw, validates
# against the Kubernetes API schemas.
rendered="$work/rendered/aicrd-chart"
tally "$py" "$root/scripts/helm_render_check.py" --out "$rendered" "$root/deploy/helm/aicrd"
tally "$py" "$root/scripts/helm_render_check.py" --out "$rendered-fixed" \
  --set autoscaling.enabled=false --set podDisruptionBudget.enabled=false \
  --set server.allowed.accelerators=h100 --set server.allowed.services=eks "$root/deploy/helm/aicrd"
mapfile -t deploy_docs < <(find "$rendered" "$rendered-fixed" -name '*.yaml' | sort)
tally node "$root/scripts/validate_gitops_docs.mjs" "$root/deploy/kubernetes/aicrd.yaml" "${deploy_docs[@]}"

echo
[ "$have_shellcheck" = 1 ] || echo "note: shellcheck not installed: shellcheck checks skipped"
[ "$have_kubectl" = 1 ] || echo "note: kubectl not installed: kustomize builds skipped"
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
