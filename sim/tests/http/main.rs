//! The sim over real HTTP on loopback, in one test binary: the retention,
//! baseline and digest endpoints, and the VP endpoints, each suite a module
//! on the shared set-up in `support`.

mod retention;
mod support;
mod vp;
