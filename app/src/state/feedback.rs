//! The outcome of the last write: a notice on success, an error banner on failure.

use leptos::prelude::*;

use crate::api::ApiError;

/// `#notice` and `#error-banner` contents.
#[derive(Clone, Copy)]
pub struct Feedback {
    /// The server's message after a successful write.
    pub notice: RwSignal<Option<String>>,
    /// The error of the last failed write.
    pub error: RwSignal<Option<ApiError>>,
}

impl Feedback {
    /// Show a success message (and drop any old error).
    pub fn success(self, message: String) {
        self.error.set(None);
        self.notice.set(Some(message));
    }

    /// Show an error (and drop any old notice).
    pub fn failure(self, error: ApiError) {
        self.notice.set(None);
        self.error.set(Some(error));
    }

    /// Clear both.
    pub fn clear(self) {
        self.notice.set(None);
        self.error.set(None);
    }
}

/// Share an empty feedback area.
pub fn provide_feedback() -> Feedback {
    let feedback = Feedback {
        notice: RwSignal::new(None),
        error: RwSignal::new(None),
    };
    provide_context(feedback);
    feedback
}

/// The shared feedback area.
pub fn use_feedback() -> Feedback {
    expect_context::<Feedback>()
}
