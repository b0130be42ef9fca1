//! App-wide state, each piece a small `Copy` newtype handed out through context
//! by its `provide_*()` function and fetched with its `use_*()` function
//! (`connect` holds the plain rules the connection follows).

pub mod clock;
pub mod connect;
pub mod connection;
pub mod feedback;
pub mod refresh;
pub mod storage;
