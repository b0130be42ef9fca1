//! The server's integration tests, one binary: handler tests (`oneshot`, no
//! socket for the console), loopback tests (real sockets, the embedded sim or
//! a stand-in platform), VP lanes (evidence log and cadence included), the webhook and a
//! real Alertmanager, all on [`support`]'s fixture.

mod alerting;
mod alertmanager;
mod cadence;
mod evidence;
mod handlers;
mod hostile;
mod limits;
mod loopback;
mod pg;
mod postgres;
mod replicas;
mod store;
mod support;
mod timeline;
mod vp;
mod webhook;
