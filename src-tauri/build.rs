// The build script runs at the repository root (the app package is the root Cargo.toml),
// so tauri.conf.json and icons/ are found there; the capabilities live in src-tauri/ and
// must be named, else nothing is granted and core APIs fail with "not allowed" at run time.
fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*"),
    )
    .expect("failed to run tauri-build");
}
