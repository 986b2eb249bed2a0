//! The Kubernetes manifests run the real binary: every flag the StatefulSet of deploy/base passes
//! is one that `tillbridge run --help` lists, so a renamed flag fails here, not in a cluster.

use super::support::tillbridge;

/// The container's `args` in deploy/base/statefulset.yaml: the block sequence under `args:`,
/// one `- item` a line (the form the file uses; another form fails the test, never passes it).
fn statefulset_args() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/base/statefulset.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines().skip_while(|l| l.trim() != "args:");
    let header = lines.next().expect("statefulset.yaml has an `args:` block");
    let indent = |l: &str| l.len() - l.trim_start().len();
    lines
        .map_while(|l| {
            let item = l.trim_start().strip_prefix("- ")?;
            (indent(l) > indent(header)).then(|| item.trim().to_string())
        })
        .collect()
}

#[test]
fn the_statefulset_passes_only_flags_that_run_has() {
    let args = statefulset_args();
    assert_eq!(args.first().map(String::as_str), Some("run"), "{args:?}");
    let flags: Vec<&str> = args[1..]
        .iter()
        .map(|arg| arg.split('=').next().unwrap_or(arg))
        .collect();
    assert!(flags.contains(&"--shard"), "{args:?}");

    let dir = tempfile::tempdir().unwrap();
    let output = tillbridge(dir.path())
        .args(["run", "--help"])
        .assert()
        .success();
    let help = String::from_utf8_lossy(&output.get_output().stdout);
    let listed: Vec<&str> = help
        .split_whitespace()
        .map(|word| word.trim_end_matches([',', '.']))
        .filter(|word| word.starts_with("--"))
        .collect();
    for flag in flags {
        assert!(
            listed.contains(&flag),
            "deploy/base/statefulset.yaml passes {flag}, which `tillbridge run` does not have ({listed:?})"
        );
    }
}
