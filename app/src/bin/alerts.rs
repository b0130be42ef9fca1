//! The `/ops/alerts` bundle.

fn main() {
    opsdeck_app::shell::mount(
        env!("CARGO_BIN_NAME"),
        opsdeck_app::alerts::page::AlertsPage,
    );
}
