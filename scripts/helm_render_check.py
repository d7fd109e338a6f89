#!/usr/bin/env python3
"""Render chart directories with Helm itself, offline, and fail on any error.

Usage: helm_render_check.py CHART_DIR [CHART_DIR ...]

Uses the `helm-python-sdk` package (import name `helm_python`), which ships
Helm's Go SDK as a shared library: no helm binary and no cluster needed.
Install it with `pip install helm-python-sdk` (in a virtualenv).

Each CHART_DIR is loaded as Helm loads a chart and its templates are
rendered with the chart's own values.yaml. When the directory also holds
a Flux `helmrelease.yaml` (the flux deployer's local charts), its
`spec.values` are merged on top and its `spec.targetNamespace` is the
release namespace, so the unrendered templates are checked with exactly
the values Flux will give them. Every rendered manifest must be YAML.

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


def check(chart_dir):
    """Renders one chart; returns a list of problems."""
    values, namespace = release_settings(chart_dir)
    name = os.path.basename(os.path.normpath(chart_dir))
    try:
        chart = helm.Chart.load(chart_dir)
        rendered = chart.render(values, name=name, namespace=namespace, is_install=True)
    except helm.HelmError as err:
        return [f"{chart_dir}: {type(err).__name__}: {err}"]
    problems = []
    for template, text in sorted(rendered.items()):
        for i, doc in enumerate(text.split("\n---")):
            if not doc.strip():
                continue
            try:
                helm.values_from_yaml(doc)
            except helm.HelmError as err:
                problems.append(f"{chart_dir}: {template} document {i} is not YAML: {err}")
    if not problems:
        print(f"ok {chart_dir}: {len(rendered)} templates rendered")
    return problems


def main(argv):
    if not argv or any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    problems = []
    for chart_dir in argv:
        if not os.path.isfile(os.path.join(chart_dir, "Chart.yaml")):
            problems.append(f"{chart_dir}: no Chart.yaml")
            continue
        problems.extend(check(chart_dir))
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
