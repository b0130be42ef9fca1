//! The console's pages as tab-separated lines (path, nav, title, bundle,
//! entry), for the scripts that build and measure one bundle per page:
//! `cargo run -q -p opsdeck-api --example pages`.

fn main() {
    for p in opsdeck_api::pages::PAGES {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            p.path, p.nav, p.title, p.bundle, p.entry
        );
    }
}
