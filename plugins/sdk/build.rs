//! Writes the SDK's bindings and its two binding macros with this crate's own `wit/` folder
//! (absolute path) and the WIT package version baked in, so that a plugin built against the SDK
//! (from this workspace, a path or a git dependency) names no WIT path and no version of its own.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let wit = manifest_dir.join("wit");
    println!("cargo:rerun-if-changed={}", wit.display());
    let version = package_version(&wit);
    let wit_path = wit.to_str().expect("the SDK's path is valid UTF-8");
    let template = include_str!("src/bindings.rs.in");
    let code = template
        .replace("@WIT_VERSION@", &version)
        .replace("@WIT_PATH@", &wit_path.replace('\\', "\\\\"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("bindings.rs");
    std::fs::write(&out, code).expect("cannot write the SDK's bindings");
}

/// The version in `package tillbridge:plugin@X;` of the WIT files (they all carry the same).
fn package_version(wit: &std::path::Path) -> String {
    let types = std::fs::read_to_string(wit.join("types.wit"))
        .unwrap_or_else(|e| panic!("cannot read {}/types.wit: {e}", wit.display()));
    types
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("package tillbridge:plugin@")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .expect("types.wit starts with `package tillbridge:plugin@VERSION;`")
}
