//! The README's first picture is the one the browser test makes.

use std::path::Path;

use crate::helpers::{README_SCREENSHOT, WINDOW, png_size};

/// The first image in README.md is `docs/screenshot.png`, which
/// `in_a_real_browser_the_lock_off_oversells_and_the_lock_on_does_not`
/// rewrites on every run; it is a PNG as wide as the test's window.
#[test]
fn the_readmes_first_picture_is_the_screenshot_the_browser_test_saves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("read README.md");

    let first = readme
        .split("![")
        .nth(1)
        .and_then(|image| image.split_once("](")?.1.split_once(')'))
        .map(|(path, _)| path)
        .expect("README.md has an image");

    assert_eq!(first, README_SCREENSHOT);
    let png = std::fs::read(root.join(first)).expect("read the screenshot");
    assert_eq!(png_size(&png).0, WINDOW.0);
}
