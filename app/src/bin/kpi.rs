//! Mounts the KPI bundle (`kpi.html`, `/ops/kpi`); everything else lives in the library.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(opsdeck_app::KpiApp);
}
