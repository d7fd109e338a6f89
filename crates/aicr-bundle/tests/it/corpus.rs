//! Access to the reference corpus (`../shared/conformance/bundle`) for the
//! renderer and deployer tests: cases, their recipes and options.

use std::path::{Path, PathBuf};

use aicr_bundle::options::parse_selector;
use aicr_bundle::{BundleOptions, Deployer, DynamicPath, Toleration};
use aicr_core::values::SetOverride;
use aicr_core::{Components, DirProvider, RecipeResult};

/// The components of the reference catalog the corpus was produced from.
pub fn upstream_catalog(conformance: &Path) -> Components {
    let provider = DirProvider::open(conformance.join("upstream-catalog")).expect("catalog dir");
    Components::load(Box::new(provider)).expect("upstream catalog loads")
}

/// Every case directory whose name satisfies `keep`, sorted.
pub fn cases(conformance: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(conformance.join("bundle"))
        .expect("bundle corpus")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir() && keep(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    out.sort();
    out
}

/// The case's input recipe.
pub fn recipe(case: &Path) -> RecipeResult {
    let text = std::fs::read_to_string(case.join("recipe.yaml")).expect("recipe.yaml");
    aicr_core::yaml::parse_str(&text, "recipe.yaml").expect("recipe parses")
}

/// The case's `args.txt` as bundle options.
pub fn options(case: &Path) -> BundleOptions {
    let text = std::fs::read_to_string(case.join("args.txt")).expect("args.txt");
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut o = BundleOptions::default();
    for pair in words.chunks(2) {
        let [flag, value] = pair else {
            panic!("odd args in {}", case.display())
        };
        match *flag {
            "--deployer" => o.deployer = Deployer::parse(value).unwrap(),
            "--repo" => o.repo = Some(value.to_string()),
            "--set" => o.sets.push(SetOverride::parse(value).unwrap()),
            "--dynamic" => o.dynamic.push(DynamicPath::parse(value).unwrap()),
            "--system-node-selector" => parse_selector(value, &mut o.system_node_selector).unwrap(),
            "--accelerated-node-selector" => {
                parse_selector(value, &mut o.accelerated_node_selector).unwrap()
            }
            "--workload-selector" => parse_selector(value, &mut o.workload_selector).unwrap(),
            "--system-node-toleration" => o
                .system_node_tolerations
                .push(Toleration::parse(value).unwrap()),
            "--accelerated-node-toleration" => o
                .accelerated_node_tolerations
                .push(Toleration::parse(value).unwrap()),
            "--workload-gate" => o.workload_gate = Some(Toleration::parse(value).unwrap()),
            "--storage-class" => o.storage_class = Some(value.to_string()),
            "--nodes" => o.nodes = value.parse().unwrap(),
            other => panic!("unknown flag {other} in {}", case.display()),
        }
    }
    o
}
