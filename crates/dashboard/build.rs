//! Rebuilds the crate when the dashboard's production build changes, including files added
//! or removed (rust-embed alone only notices edits to files it already embeds).

fn main() {
    println!("cargo:rerun-if-changed=../../dashboard/dist");
}
