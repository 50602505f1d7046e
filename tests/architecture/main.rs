//! The module graph has no circles, in the service and in the generator.
//!
//! A circle makes a newcomer read two files to understand one. The rule,
//! the one `cargo modules dependencies --acyclic` applies, but checked here in
//! a second instead of a long build: read every `use` and every path in the
//! code, resolve it to the module that *defines* the item (following
//! re-exports), and lift each edge to the two sibling modules it joins — so
//! `crowd/claim.rs → purchase.rs` counts as `crowd → purchase`. Within each
//! parent, the children must then form a DAG. A module and its own
//! submodules may use each other: they are one unit seen from outside.

mod graph;

use std::path::{Path, PathBuf};

use graph::CrateGraph;

#[test]
fn the_service_has_no_module_circles() {
    assert_acyclic(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"));
}

#[test]
fn the_load_generator_has_no_module_circles() {
    assert_acyclic(Path::new(env!("CARGO_MANIFEST_DIR")).join("loadtest/src/lib.rs"));
}

#[test]
fn the_generator_never_imports_the_service() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("loadtest/src");
    let graph = CrateGraph::read(&root.join("lib.rs"));
    let offenders: Vec<_> = graph
        .modules
        .iter()
        .flat_map(|module| &module.paths)
        .filter(|(path, _)| path.first().is_some_and(|first| first == "flashsale"))
        .collect();
    assert!(
        offenders.is_empty(),
        "loadtest/src uses the service: {offenders:?}"
    );
}

#[test]
fn a_circle_between_siblings_is_found() {
    let dir = fixture(&[
        ("lib.rs", "mod a; mod b; mod c;"),
        ("a.rs", "use crate::b::B; pub struct A;"),
        ("b.rs", "pub struct B; fn f() -> crate::c::C { todo!() }"),
        ("c.rs", "pub use crate::a::A as Alias; pub struct C;"),
    ]);
    let circles = CrateGraph::read(&dir.join("lib.rs")).circles();
    assert_eq!(circles.len(), 1, "{circles:?}");
    assert!(circles[0].contains("`a`, `b`, `c`"), "{}", circles[0]);
}

#[test]
fn a_circle_through_a_folder_and_a_re_export_is_found() {
    // `x/inner.rs` defines what `y` uses; `x` re-exports it; `y` is used by
    // `x/mod.rs`. Lifted to the root: x → y → x.
    let dir = fixture(&[
        ("lib.rs", "pub mod x; pub mod y;"),
        (
            "x/mod.rs",
            "mod inner; pub use inner::Thing; fn f(_: crate::y::Y) {}",
        ),
        ("x/inner.rs", "pub struct Thing;"),
        ("y.rs", "use crate::x::Thing; pub struct Y(Thing);"),
    ]);
    let circles = CrateGraph::read(&dir.join("lib.rs")).circles();
    assert_eq!(circles.len(), 1, "{circles:?}");
    assert!(circles[0].contains("`x`, `y`"), "{}", circles[0]);
}

#[test]
fn a_parent_and_its_child_may_use_each_other_and_external_crates_do_not_count() {
    let dir = fixture(&[
        ("lib.rs", "pub mod x; use std::fmt; use serde::Serialize;"),
        (
            "x/mod.rs",
            "mod inner; pub use inner::Thing; pub struct Base;",
        ),
        (
            "x/inner.rs",
            "use super::Base; pub struct Thing(Base); #[cfg(test)] mod tests { use super::*; }",
        ),
    ]);
    let circles = CrateGraph::read(&dir.join("lib.rs")).circles();
    assert!(circles.is_empty(), "{circles:?}");
}

fn assert_acyclic(root: PathBuf) {
    let circles = CrateGraph::read(&root).circles();
    assert!(
        circles.is_empty(),
        "module circles in {}:\n\n{}",
        root.parent().unwrap().display(),
        circles.join("\n")
    );
}

/// A throwaway source tree.
fn fixture(files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "flashsale-architecture-{}-{}",
        std::process::id(),
        FIXTURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}
static FIXTURES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
