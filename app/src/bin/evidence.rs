//! The `/ops/vp/evidence` bundle: its page in the shell; everything else lives in the library.

fn main() {
    opsdeck_app::shell::mount(
        env!("CARGO_BIN_NAME"),
        opsdeck_app::vp::evidence_page::VpEvidencePage,
    );
}
