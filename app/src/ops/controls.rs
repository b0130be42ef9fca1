//! Run Controls rules: which write buttons are usable, why not, and what the
//! confirmation asks.

use opsdeck_api::admin::{AdminStatus, Environment, StartRunRequest};
use opsdeck_api::validate;

use crate::ui::confirm_dialog::Confirmation;

/// The five writes of the Run Controls panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Start a test run.
    Start,
    /// Stop the active run.
    Stop,
    /// Pause the active run.
    Pause,
    /// Resume a paused run.
    Resume,
    /// Reset and reseed the dev world.
    Reset,
}

impl OpKind {
    /// All of them, in button order.
    pub const ALL: [OpKind; 5] = [
        OpKind::Start,
        OpKind::Stop,
        OpKind::Pause,
        OpKind::Resume,
        OpKind::Reset,
    ];

    /// The button label, as the runbook names it.
    pub fn label(self) -> &'static str {
        match self {
            OpKind::Start => "Start Test Run",
            OpKind::Stop => "Stop Run",
            OpKind::Pause => "Pause",
            OpKind::Resume => "Resume",
            OpKind::Reset => "Reset Dev World",
        }
    }

    /// The button label while the request is in flight.
    pub fn busy_label(self) -> &'static str {
        match self {
            OpKind::Start => "Starting…",
            OpKind::Stop => "Stopping…",
            OpKind::Pause => "Pausing…",
            OpKind::Resume => "Resuming…",
            OpKind::Reset => "Resetting…",
        }
    }

    /// The element id of the button.
    pub fn button_id(self) -> &'static str {
        match self {
            OpKind::Start => "btn-start",
            OpKind::Stop => "btn-stop",
            OpKind::Pause => "btn-pause",
            OpKind::Resume => "btn-resume",
            OpKind::Reset => "btn-reset",
        }
    }

    /// Stop and reset throw work away; they get the alarming button style.
    pub fn is_destructive(self) -> bool {
        matches!(self, OpKind::Stop | OpKind::Reset)
    }
}

/// One write, with everything needed to send it.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// `POST …/run/start`.
    Start(StartRunRequest),
    /// `POST …/run/stop`.
    Stop,
    /// `POST …/run/pause`.
    Pause,
    /// `POST …/run/resume`.
    Resume,
    /// `POST …/world/reset`.
    Reset,
}

impl WriteOp {
    /// Which button this is.
    pub fn kind(&self) -> OpKind {
        match self {
            WriteOp::Start(_) => OpKind::Start,
            WriteOp::Stop => OpKind::Stop,
            WriteOp::Pause => OpKind::Pause,
            WriteOp::Resume => OpKind::Resume,
            WriteOp::Reset => OpKind::Reset,
        }
    }
}

/// The Run Controls form as typed, checked with `opsdeck_api::validate`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StartForm {
    /// `Run ID` (optional; blank means "let the platform pick one").
    pub run_id: String,
    /// `Run reason` (optional).
    pub reason: String,
    /// `Reset + reseed world before test start`.
    pub reset_world: bool,
}

impl StartForm {
    /// The message to show under the Run ID field, if the value is not allowed.
    pub fn run_id_error(&self) -> Option<String> {
        let id = self.run_id.trim();
        if id.is_empty() {
            None
        } else {
            validate::run_id(id).err().map(|e| e.message)
        }
    }

    /// The message to show under the Run reason field, if the value is not allowed.
    pub fn reason_error(&self) -> Option<String> {
        validate::reason(self.reason.trim())
            .err()
            .map(|e| e.message)
    }

    /// Whether both fields pass.
    pub fn is_valid(&self) -> bool {
        self.run_id_error().is_none() && self.reason_error().is_none()
    }

    /// The request body; blank fields are left out.
    pub fn request(&self) -> StartRunRequest {
        let non_blank = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        };
        StartRunRequest {
            run_id: non_blank(&self.run_id),
            reason: non_blank(&self.reason),
            reset_world: self.reset_world,
        }
    }
}

/// What the run looks like according to the last Status data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunState {
    /// `SIMULATION_ACTIVE`.
    pub active: bool,
    /// `SIMULATION_PAUSED`.
    pub paused: bool,
    /// The current or most recent run.
    pub run_id: Option<String>,
}

impl From<&AdminStatus> for RunState {
    fn from(s: &AdminStatus) -> Self {
        RunState {
            active: s.simulation_active,
            paused: s.simulation_paused,
            run_id: s.run_id.clone(),
        }
    }
}

/// Everything the write buttons depend on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ControlsInput {
    /// A session is established.
    pub connected: bool,
    /// The console's write guard would pass (`Session::write_enabled`).
    pub session_write_enabled: bool,
    /// Why the console refuses writes (`Session::writes_disabled_reason`).
    pub session_reason: Option<String>,
    /// The upstream's own `admin_write_enabled`, once Status has loaded.
    pub upstream_write_enabled: Option<bool>,
    /// The run state, once Status has loaded (the last good one when stale).
    pub run: Option<RunState>,
    /// The start form passes validation.
    pub form_valid: bool,
    /// A write is in flight.
    pub busy: Option<OpKind>,
}

/// How one button renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonState {
    /// `disabled` attribute.
    pub disabled: bool,
    /// `title`: what it does, or why it cannot.
    pub title: String,
    /// Label (the busy label while in flight).
    pub label: &'static str,
}

/// Why no write is possible at all this session, or `None` when writes may be tried.
pub fn writes_blocked(input: &ControlsInput) -> Option<String> {
    if !input.connected {
        return Some("Connect to use the run controls.".into());
    }
    if !input.session_write_enabled {
        return Some(match input.session_reason.as_deref() {
            Some(r) if !r.trim().is_empty() => format!("Writes are disabled: {r}"),
            _ => "Writes are disabled on this console (ADMIN_WRITE_ENABLED=false).".into(),
        });
    }
    if input.upstream_write_enabled == Some(false) {
        return Some("Writes are disabled: the platform reports admin_write_enabled=false.".into());
    }
    None
}

/// How the button for `kind` renders given `input`.
pub fn button(kind: OpKind, input: &ControlsInput) -> ButtonState {
    let label = if input.busy == Some(kind) {
        kind.busy_label()
    } else {
        kind.label()
    };
    let state = |disabled: bool, title: String| ButtonState {
        disabled,
        title,
        label,
    };
    if let Some(reason) = writes_blocked(input) {
        return state(true, reason);
    }
    if let Some(busy) = input.busy {
        return state(
            true,
            if busy == kind {
                format!("{} in progress", kind.label())
            } else {
                format!("Wait for “{}” to finish", busy.label())
            },
        );
    }
    let run_name = |run: &RunState| match &run.run_id {
        Some(id) => format!("run {id}"),
        None => "the run".into(),
    };
    // Until Status has loaded the run state is unknown; the buttons stay usable
    // and the server's 409 says if one does not apply.
    let Some(run) = &input.run else {
        return state(
            false,
            "Run state not loaded yet; the server checks it".into(),
        );
    };
    match kind {
        OpKind::Start if run.active => state(
            true,
            format!(
                "{} is already active; stop it first",
                capitalise(&run_name(run))
            ),
        ),
        OpKind::Start if !input.form_valid => {
            state(true, "Fix the Run ID or Run reason first".into())
        }
        OpKind::Start => state(false, "Start a new test run".into()),
        OpKind::Stop | OpKind::Pause | OpKind::Resume if !run.active => {
            state(true, "No active run".into())
        }
        OpKind::Stop => state(false, format!("Stop {}", run_name(run))),
        OpKind::Pause if run.paused => state(true, "The run is already paused".into()),
        OpKind::Pause => state(false, format!("Pause {}", run_name(run))),
        OpKind::Resume if !run.paused => state(true, "The run is not paused".into()),
        OpKind::Resume => state(false, format!("Resume {}", run_name(run))),
        OpKind::Reset if run.active => state(
            true,
            "Stop the active run before resetting the world".into(),
        ),
        OpKind::Reset => state(false, "Reset the dev world and reseed it".into()),
    }
}

/// Capitalise one of our own sentence starts ("run …", "the run"). They begin
/// with ASCII, and `char::to_uppercase` would bring Unicode's case tables
/// (over 10 KB) into the wasm for them.
fn capitalise(s: &str) -> String {
    let mut s = s.to_string();
    if let Some(first) = s.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    s
}

/// What the confirmation for `op` says. `run` is what Status last showed;
/// `environment` is the session's.
pub fn confirmation(
    op: &WriteOp,
    run: Option<&RunState>,
    environment: Option<Environment>,
) -> Confirmation {
    let current = || match run.and_then(|r| r.run_id.as_deref()) {
        Some(id) => format!("run {id}"),
        None => "the active run".into(),
    };
    let (text, mut details) = match op {
        WriteOp::Start(req) => {
            let what = match &req.run_id {
                Some(id) => format!("Start run {id}"),
                None => "Start a new run with a generated ID".into(),
            };
            let world = if req.reset_world {
                "world will be reset + reseeded first"
            } else {
                "world will not be reset"
            };
            let reason = req.reason.as_ref().map(|r| format!("Reason: {r}"));
            (format!("{what} ({world})?"), reason.into_iter().collect())
        }
        WriteOp::Stop => (
            format!("Stop {}?", current()),
            vec!["Agents stop acting and the run is marked paused.".to_string()],
        ),
        WriteOp::Pause => (format!("Pause {}?", current()), vec![]),
        WriteOp::Resume => (format!("Resume {}?", current()), vec![]),
        WriteOp::Reset => (
            "Reset + reseed the dev world?".to_string(),
            vec!["All world state is replaced by a freshly seeded world.".to_string()],
        ),
    };
    if environment == Some(Environment::Production) {
        details.insert(0, "This is PRODUCTION.".to_string());
    }
    Confirmation {
        text,
        detail: (!details.is_empty()).then(|| details.join(" ")),
        ok_label: op.kind().label(),
        destructive: op.kind().is_destructive(),
        // Start's reason is the form's Run reason; the others ask here.
        ask_reason: op.kind() != OpKind::Start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(run: Option<RunState>) -> ControlsInput {
        ControlsInput {
            connected: true,
            session_write_enabled: true,
            session_reason: None,
            upstream_write_enabled: Some(true),
            run,
            form_valid: true,
            busy: None,
        }
    }

    fn run(active: bool, paused: bool) -> Option<RunState> {
        Some(RunState {
            active,
            paused,
            run_id: Some("smoke-1".into()),
        })
    }

    fn enabled(input: &ControlsInput) -> Vec<OpKind> {
        OpKind::ALL
            .into_iter()
            .filter(|k| !button(*k, input).disabled)
            .collect()
    }

    #[test]
    fn not_connected_disables_everything_and_says_why() {
        let input = ControlsInput::default();
        assert_eq!(
            writes_blocked(&input).as_deref(),
            Some("Connect to use the run controls.")
        );
        assert!(enabled(&input).is_empty());
        assert_eq!(
            button(OpKind::Start, &input).title,
            "Connect to use the run controls."
        );
    }

    #[test]
    fn write_guard_and_upstream_flag_disable_writes() {
        let mut input = ready(run(false, false));
        input.session_write_enabled = false;
        input.session_reason = Some("PRODUCTION is read-only (ADMIN_WRITE_ENABLED=false)".into());
        assert_eq!(
            writes_blocked(&input).as_deref(),
            Some("Writes are disabled: PRODUCTION is read-only (ADMIN_WRITE_ENABLED=false)")
        );
        assert!(enabled(&input).is_empty());

        let mut input = ready(run(false, false));
        input.upstream_write_enabled = Some(false);
        assert!(
            writes_blocked(&input)
                .unwrap()
                .contains("admin_write_enabled=false")
        );
        assert!(enabled(&input).is_empty());
    }

    #[test]
    fn buttons_follow_the_run_state() {
        use OpKind::*;
        assert_eq!(enabled(&ready(run(false, false))), vec![Start, Reset]);
        assert_eq!(enabled(&ready(run(true, false))), vec![Stop, Pause]);
        assert_eq!(enabled(&ready(run(true, true))), vec![Stop, Resume]);
        // Stopped runs read active=false, paused=true: nothing to resume.
        assert_eq!(enabled(&ready(run(false, true))), vec![Start, Reset]);
        assert_eq!(
            button(Start, &ready(run(true, false))).title,
            "Run smoke-1 is already active; stop it first"
        );
        assert_eq!(
            button(Stop, &ready(run(false, false))).title,
            "No active run"
        );
        assert_eq!(
            button(Resume, &ready(run(true, false))).title,
            "The run is not paused"
        );
    }

    #[test]
    fn unknown_run_state_lets_the_server_decide() {
        assert_eq!(enabled(&ready(None)).len(), 5);
    }

    #[test]
    fn invalid_form_blocks_only_start() {
        let mut input = ready(run(false, false));
        input.form_valid = false;
        assert_eq!(enabled(&input), vec![OpKind::Reset]);
        assert_eq!(
            button(OpKind::Start, &input).title,
            "Fix the Run ID or Run reason first"
        );
    }

    #[test]
    fn busy_button_shows_progress_and_blocks_the_rest() {
        let mut input = ready(run(false, false));
        input.busy = Some(OpKind::Start);
        let start = button(OpKind::Start, &input);
        assert!(start.disabled);
        assert_eq!(start.label, "Starting…");
        assert_eq!(button(OpKind::Reset, &input).label, "Reset Dev World");
        assert!(enabled(&input).is_empty());
    }

    #[test]
    fn start_form_validates_with_the_shared_rules() {
        let mut form = StartForm {
            run_id: " smoke-1 ".into(),
            reason: "".into(),
            reset_world: true,
        };
        assert!(form.is_valid());
        assert_eq!(
            form.request(),
            StartRunRequest {
                run_id: Some("smoke-1".into()),
                reason: None,
                reset_world: true
            }
        );
        form.run_id = "bad id".into();
        assert!(
            form.run_id_error()
                .unwrap()
                .contains("found ' ' at position 4")
        );
        assert!(!form.is_valid());
        form.run_id = String::new();
        assert_eq!(form.run_id_error(), None);
        form.reason = "x".repeat(281);
        assert_eq!(
            form.reason_error().as_deref(),
            Some("reason is 281 characters; the limit is 280")
        );
    }

    #[test]
    fn confirmations_say_what_will_happen() {
        let start = |id: Option<&str>, reset| {
            WriteOp::Start(StartRunRequest {
                run_id: id.map(String::from),
                reason: None,
                reset_world: reset,
            })
        };
        assert_eq!(
            confirmation(&start(Some("smoke-1"), true), None, None).text,
            "Start run smoke-1 (world will be reset + reseeded first)?"
        );
        assert_eq!(
            confirmation(&start(Some("smoke-1"), false), None, None).text,
            "Start run smoke-1 (world will not be reset)?"
        );
        assert_eq!(
            confirmation(&start(None, true), None, None).text,
            "Start a new run with a generated ID (world will be reset + reseeded first)?"
        );
        let state = run(true, false);
        assert_eq!(
            confirmation(&WriteOp::Stop, state.as_ref(), None).text,
            "Stop run smoke-1?"
        );
        assert_eq!(
            confirmation(&WriteOp::Pause, None, None).text,
            "Pause the active run?"
        );
        let reset = confirmation(&WriteOp::Reset, None, Some(Environment::Production));
        assert_eq!(reset.text, "Reset + reseed the dev world?");
        assert!(reset.detail.unwrap().starts_with("This is PRODUCTION."));
    }
}
