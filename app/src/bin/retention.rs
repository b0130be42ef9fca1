//! Mounts the retention bundle (`retention.html`, `/ops/retention`); everything else lives in the library.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(opsdeck_app::RetentionApp);
}
