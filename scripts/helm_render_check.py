#!/usr/bin/env python3
"""Lint and render chart directories with Helm itself, offline; fail on any error.

Usage: helm_render_check.py [--set EXPR ...] [--out DIR] CHART_DIR [CHART_DIR ...]

Uses the `helm-python-sdk` package (import name `helm_python`), which ships
Helm's Go SDK as a shared library: no helm binary and no cluster needed.
Install it with `pip install helm-python-sdk` (in a virtualenv), or run
scripts/install_real_tools.sh.

Each CHART_DIR is linted as `helm lint` does (errors fail, warnings are
printed) and loaded as Helm loads a chart, and its templates are rendered
with the chart's own values.yaml. When the directory also holds a Flux
`helmrelease.yaml` (the flux deployer's local charts), its `spec.values`
are merged on top and its `spec.targetNamespace` is the release namespace,
so the unrendered templates are checked with exactly the values Flux will
give them. `--set EXPR` (Helm `--set` syntax, repeatable) adds values on
top of that for every chart, e.g. `--set repoURL=oci://r/aicr-bundle` for
the argocd-helm bundle chart. Every rendered manifest must be YAML.
`--out DIR` writes each chart's rendered templates under
DIR/<chart dir name>/<template path> for later checks.

Exit status: 0 when every chart renders, 1 otherwise, 2 on bad usage or
when the SDK is missing.
"""

import os
import sys

try:
    import helm_python as helm
except ImportError:
    print("helm_render_check: `pip install helm-python-sdk` first", file=sys.stderr)
    sys.exit(2)


def merge(base, top):
    """Helm-style deep merge of value maps: maps merge, everything else replaces."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def release_settings(chart_dir):
    """Values and namespace from a Flux helmrelease.yaml beside the chart."""
    path = os.path.join(chart_dir, "helmrelease.yaml")
    if not os.path.isfile(path):
        return None, "default"
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # Helm's own YAML reader, so no YAML library is needed; the file is one
    # document after its comment header and `---`.
    body = text.split("\n---\n", 1)[-1]
    doc = helm.values_from_yaml(body)
    spec = doc.get("spec", {})
    return spec.get("values") or {}, spec.get("targetNamespace") or "default"


def check(chart_dir, extra_values=None, out_dir=None):
    """Lints and renders one chart; returns a list of problems."""
    values, namespace = release_settings(chart_dir)
    if extra_values:
        values = merge(values or {}, extra_values)
    name = os.path.basename(os.path.normpath(chart_dir))
    problems = []
    try:
        report = helm.lint(chart_dir, values, namespace=namespace)
    except helm.HelmError as err:
        return [f"{chart_dir}: lint: {type(err).__name__}: {err}"]
    for msg in report.get("messages", []):
        text = f"{chart_dir}: lint {msg.get('path')}: {msg.get('error')}"
        if msg.get("severity", 0) >= 3:
            problems.append(text)
        elif msg.get("severity", 0) == 2:
            print(f"warning {text}", file=sys.stderr)
    problems.extend(f"{chart_dir}: lint: {e}" for e in report.get("errors", []))
    try:
        chart = helm.Chart.load(chart_dir)
        rendered = chart.render(values, name=name, namespace=namespace, is_install=True)
    except helm.HelmError as err:
        return problems + [f"{chart_dir}: {type(err).__name__}: {err}"]
    for template, text in sorted(rendered.items()):
        for i, doc in enumerate(text.split("\n---")):
            if not doc.strip():
                continue
            try:
                helm.values_from_yaml(doc)
            except helm.HelmError as err:
                problems.append(f"{chart_dir}: {template} document {i} is not YAML: {err}")
        if out_dir:
            # Template names start with the chart's name: `<chart>/templates/x.yaml`.
            rel = template.split("/", 1)[-1]
            path = os.path.join(out_dir, name, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if not problems:
        print(f"ok {chart_dir}: linted, {len(rendered)} templates rendered")
    return problems


def main(argv):
    if not argv or any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    extra, out_dir, charts = {}, None, []
    args = iter(argv)
    for arg in args:
        if arg in ("--set", "--out"):
            value = next(args, None)
            if value is None:
                print(f"helm_render_check: {arg} needs a value", file=sys.stderr)
                return 2
            if arg == "--out":
                out_dir = value
            else:
                try:
                    extra = merge(extra, helm.parse_set_string(value))
                except helm.HelmError as err:
                    print(f"helm_render_check: --set {value}: {err}", file=sys.stderr)
                    return 2
        else:
            charts.append(arg)
    problems = []
    for chart_dir in charts:
        if not os.path.isfile(os.path.join(chart_dir, "Chart.yaml")):
            problems.append(f"{chart_dir}: no Chart.yaml")
            continue
        found = check(chart_dir, extra, out_dir)
        for p in found:
            print(f"FAIL {p}", file=sys.stderr)
        problems.extend(found)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
