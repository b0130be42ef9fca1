//! The `/ops/runs` bundle: the history at its path, one run's page below it.

use leptos::prelude::*;

fn main() {
    opsdeck_app::shell::mount_with_detail(
        env!("CARGO_BIN_NAME"),
        opsdeck_app::runs::list_page::RunsPage,
        || view! { <opsdeck_app::runs::run_page::RunPage /> }.into_any(),
    );
}
