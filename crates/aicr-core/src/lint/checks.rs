//! The lint's own checks, run over what the loader parsed: rules that
//! relate documents to each other (mixins, registry, validators, files,
//! criteria) and to the measurement catalog. Parents, cycles and depth are
//! the loader's.

use std::collections::HashMap;

use super::{Parsed, Problem};
use crate::catalog::BASE;
use crate::criteria::Criteria;
use crate::load::{Chain, REGISTRY, Sourced, chain};
use crate::measurement::check_path;
use crate::model::{ComponentRef, ComponentType, RecipeMetadata, Validation, ValidationPhase};
use crate::provider::check_relative;
use crate::suggest::closest;

/// Metrics a validator reports that a phase constraint may set a threshold
/// on, besides the check's own name (which is its metric when it has one).
const CHECK_METRICS: &[(&str, &[&str])] = &[(
    "inference-perf",
    &["inference-throughput", "inference-ttft-p99"],
)];

pub(super) fn run(parsed: &Parsed, problems: &mut Vec<Problem>) {
    let ctx = Ctx { p: parsed };
    for o in parsed.loaded.overlays.values() {
        ctx.overlay(o, problems);
    }
    for m in parsed.loaded.mixins.values() {
        let spec = &m.doc.spec;
        ctx.constraints(&m.file, "spec.constraints", &spec.constraints, problems);
        ctx.component_refs(&m.file, &spec.component_refs, &[], problems);
    }
    ctx.registry_files(problems);
    ctx.duplicate_criteria(problems);
}

struct Ctx<'p> {
    p: &'p Parsed,
}

impl<'p> Ctx<'p> {
    fn overlay(&self, o: &'p Sourced<RecipeMetadata>, problems: &mut Vec<Problem>) {
        let loaded = &self.p.loaded;
        let (file, name, spec) = (&o.file, &o.doc.metadata.name, &o.doc.spec);
        for (i, mixin) in spec.mixins.iter().enumerate() {
            let known = loaded.mixins.contains_key(mixin) || loaded.broken_mixins.contains(mixin);
            if !known {
                let names = loaded.mixins.keys().map(String::as_str);
                problems.push(
                    Problem::new(
                        file,
                        format!("spec.mixins[{i}]"),
                        format!("mixin {mixin:?} does not exist"),
                    )
                    .suggest(closest(mixin, names)),
                );
            }
        }
        self.constraints(file, "spec.constraints", &spec.constraints, problems);
        // Base first, the overlay itself left out.
        let ancestors: Vec<&Sourced<RecipeMetadata>> =
            match chain(&loaded.overlays, name, |s| &s.doc) {
                Chain::Ok(names) => names[..names.len() - 1]
                    .iter()
                    .filter_map(|n| loaded.overlays.get(*n))
                    .collect(),
                _ => Vec::new(),
            };
        self.component_refs(file, &spec.component_refs, &ancestors, problems);
        if let Some(v) = &spec.validation {
            self.validation(file, v, problems);
        }
    }

    fn constraints(
        &self,
        file: &str,
        prefix: &str,
        list: &[crate::model::Constraint],
        problems: &mut Vec<Problem>,
    ) {
        for (i, c) in list.iter().enumerate() {
            if let Err(e) = check_path(&c.name) {
                problems.push(
                    Problem::new(file, format!("{prefix}[{i}].name"), e.message)
                        .suggest(e.suggestion),
                );
            }
        }
    }

    fn component_refs(
        &self,
        file: &str,
        refs: &[ComponentRef],
        ancestors: &[&Sourced<RecipeMetadata>],
        problems: &mut Vec<Problem>,
    ) {
        let registry = &self.p.loaded.registry;
        let known = |n: &str| self.p.loaded.registry_broken || registry.contains_key(n);
        let names = || registry.keys().map(String::as_str);
        for (i, r) in refs.iter().enumerate() {
            let at = |f: &str| format!("spec.componentRefs[{i}].{f}");
            if !known(&r.name) {
                problems.push(
                    Problem::new(
                        file,
                        at("name"),
                        format!("component {:?} is not in {REGISTRY}", r.name),
                    )
                    .suggest(closest(&r.name, names())),
                );
            }
            for (j, dep) in r.dependency_refs.iter().flatten().enumerate() {
                if !known(dep) {
                    problems.push(
                        Problem::new(
                            file,
                            at(&format!("dependencyRefs[{j}]")),
                            format!("dependency {dep:?} is not a component in {REGISTRY}"),
                        )
                        .suggest(closest(dep, names())),
                    );
                }
            }
            if let Some(path) = &r.values_file {
                self.file_exists(file, &at("valuesFile"), path, problems);
            }
            for (key, list) in [
                ("manifestFiles", &r.manifest_files),
                ("preManifestFiles", &r.pre_manifest_files),
            ] {
                for (j, path) in list.iter().flatten().enumerate() {
                    self.file_exists(file, &at(&format!("{key}[{j}]")), path, problems);
                }
            }
            self.chart_version(file, &at("version"), r, ancestors, problems);
        }
    }

    /// A Helm component with a chart source must pin a version, after the
    /// chain and the registry defaults. Reported where the component is
    /// first declared in the chain or where its source is set.
    fn chart_version(
        &self,
        file: &str,
        field: &str,
        r: &ComponentRef,
        ancestors: &[&Sourced<RecipeMetadata>],
        problems: &mut Vec<Problem>,
    ) {
        let inherited: Vec<&ComponentRef> = ancestors
            .iter()
            .flat_map(|o| o.doc.spec.component_refs.iter())
            .filter(|a| a.name == r.name)
            .collect();
        if !inherited.is_empty() && r.source.as_deref().is_none_or(str::is_empty) {
            return;
        }
        let (mut kind, mut source, mut version) = (None, String::new(), String::new());
        for x in inherited.into_iter().chain([r]) {
            kind = x.kind.or(kind);
            for (slot, v) in [(&mut source, &x.source), (&mut version, &x.version)] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    *slot = v.to_string();
                }
            }
        }
        let entry = self.p.loaded.registry.get(&r.name).map(|d| &d.entry);
        let helm = entry.and_then(|e| e.helm.as_ref());
        let kustomize_only = entry.is_some_and(|e| e.helm.is_none() && e.kustomize.is_some());
        let kind = kind.unwrap_or(if kustomize_only {
            ComponentType::Kustomize
        } else {
            ComponentType::Helm
        });
        if kind != ComponentType::Helm {
            return;
        }
        if let Some(h) = helm {
            if source.is_empty() {
                source.clone_from(&h.default_repository);
            }
            if version.is_empty() {
                version.clone_from(&h.default_version);
            }
        }
        if !source.is_empty() && version.is_empty() {
            problems.push(Problem::new(
                file,
                field,
                format!(
                    "Helm component {:?} from {source} pins no chart version: set version here or helm.defaultVersion in {REGISTRY}",
                    r.name
                ),
            ));
        }
    }

    fn file_exists(&self, file: &str, field: &str, path: &str, problems: &mut Vec<Problem>) {
        if let Err(e) = check_relative(path) {
            problems.push(Problem::new(file, field, e.message().to_string()));
        } else if !self.p.files.contains(path) && !self.p.external.contains(path) {
            let all = self.p.files.iter().chain(&self.p.external);
            problems.push(
                Problem::new(
                    file,
                    field,
                    format!("file {path} does not exist in the catalog"),
                )
                .suggest(closest(path, all.map(String::as_str))),
            );
        }
    }

    fn registry_files(&self, problems: &mut Vec<Problem>) {
        for d in self.p.loaded.registry.values() {
            let at = |f: &str| format!("components[{}].{f}", d.index);
            if let Some(h) = &d.entry.health_check {
                self.file_exists(
                    &d.file,
                    &at("healthCheck.assertFile"),
                    &h.assert_file,
                    problems,
                );
            }
            for (j, path) in d.entry.manifest_files.iter().enumerate() {
                self.file_exists(&d.file, &at(&format!("manifestFiles[{j}]")), path, problems);
            }
        }
    }

    fn validation(&self, file: &str, v: &Validation, problems: &mut Vec<Problem>) {
        for (name, phase) in v.phases() {
            let Some(phase) = phase else { continue };
            let prefix = format!("spec.validation.{name}");
            for (j, check) in phase.checks.iter().enumerate() {
                let field = format!("{prefix}.checks[{j}]");
                self.check_name(file, &field, name, check, problems);
            }
            for (j, c) in phase.constraints.iter().enumerate() {
                let field = format!("{prefix}.constraints[{j}].name");
                self.phase_constraint(file, &field, name, phase, &c.name, problems);
            }
        }
    }

    fn check_name(
        &self,
        file: &str,
        field: &str,
        phase: &str,
        check: &str,
        problems: &mut Vec<Problem>,
    ) {
        if self.p.validators_broken {
            return;
        }
        let Some(validators) = &self.p.validators else {
            problems.push(Problem::new(
                file,
                field,
                format!("check {check:?} needs a validator catalog (validators/catalog.yaml)"),
            ));
            return;
        };
        match validators.get(check) {
            None => {
                let in_phase = validators
                    .values()
                    .filter(|v| v.phase == phase)
                    .map(|v| v.name.as_str());
                let any = validators.keys().map(String::as_str);
                let suggestion = closest(check, in_phase).or_else(|| closest(check, any));
                problems.push(
                    Problem::new(
                        file,
                        field,
                        format!("check {check:?} is not in the validator catalog"),
                    )
                    .suggest(suggestion),
                );
            }
            Some(v) if v.phase != phase => problems.push(Problem::new(
                file,
                field,
                format!(
                    "check {check:?} runs in the {} phase, not in {phase}",
                    v.phase
                ),
            )),
            Some(_) => {}
        }
    }

    /// A phase constraint thresholds a check listed in the same phase (its
    /// name or one of its metrics), or, in the deployment phase, the
    /// deployed version of a component (`Deployment.<component>.version`).
    fn phase_constraint(
        &self,
        file: &str,
        field: &str,
        phase_name: &str,
        phase: &ValidationPhase,
        name: &str,
        problems: &mut Vec<Problem>,
    ) {
        if let Some(rest) = name.strip_prefix("Deployment.") {
            self.deployment_constraint(file, field, phase_name, rest, problems);
            return;
        }
        let mut valid: Vec<&str> = phase.checks.iter().map(String::as_str).collect();
        for (check, metrics) in CHECK_METRICS {
            if valid.contains(check) {
                valid.extend(metrics.iter().copied());
            }
        }
        if valid.contains(&name) {
            return;
        }
        let owner = CHECK_METRICS
            .iter()
            .find(|(_, metrics)| metrics.contains(&name));
        let message = if let Some((check, _)) = owner {
            format!(
                "metric {name:?} is reported by check {check:?}, which the {phase_name} phase does not list"
            )
        } else if check_path(name).is_ok() {
            format!(
                "{name:?} is a measurement: constraints on the environment belong in spec.constraints, not in the {phase_name} phase"
            )
        } else {
            format!(
                "constraint {name:?} names no check or metric of the {phase_name} phase (valid: {})",
                valid.join(", ")
            )
        };
        problems.push(Problem::new(file, field, message).suggest(closest(name, valid)));
    }

    fn deployment_constraint(
        &self,
        file: &str,
        field: &str,
        phase_name: &str,
        rest: &str,
        problems: &mut Vec<Problem>,
    ) {
        if phase_name != "deployment" {
            problems.push(Problem::new(
                file,
                field,
                format!(
                    "Deployment.* constraints belong in the deployment phase, not in {phase_name}"
                ),
            ));
            return;
        }
        let Some(component) = rest.strip_suffix(".version") else {
            let suggestion = rest
                .split_once('.')
                .map(|(c, _)| format!("Deployment.{c}.version"));
            problems.push(
                Problem::new(
                    file,
                    field,
                    format!("deployment constraint Deployment.{rest} must have the form Deployment.<component>.version"),
                )
                .suggest(suggestion),
            );
            return;
        };
        let loaded = &self.p.loaded;
        if !loaded.registry_broken && !loaded.registry.contains_key(component) {
            let names = loaded.registry.keys().map(String::as_str);
            problems.push(
                Problem::new(
                    file,
                    field,
                    format!("component {component:?} is not in {REGISTRY}"),
                )
                .suggest(closest(component, names).map(|c| format!("Deployment.{c}.version"))),
            );
        }
    }

    fn duplicate_criteria(&self, problems: &mut Vec<Problem>) {
        // `base` is never matched, so its criteria clash with nothing.
        let mut seen: HashMap<Criteria, &str> = HashMap::new();
        let loaded = &self.p.loaded;
        let candidates = loaded
            .overlays
            .iter()
            .filter(|(n, d)| *n != BASE && !loaded.bad_criteria.contains(&d.file));
        for (name, doc) in candidates {
            match seen.get(&doc.doc.spec.criteria) {
                Some(first) => problems.push(Problem::new(
                    &doc.file,
                    "spec.criteria",
                    format!(
                        "criteria are identical to those of overlay {first:?} ({}); one of them can never be selected on its own",
                        loaded.overlays[*first].file
                    ),
                )),
                None => {
                    seen.insert(doc.doc.spec.criteria, name.as_str());
                }
            }
        }
    }
}
