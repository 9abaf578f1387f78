//! tokengate: silent login and silent token refresh for WeChat mini-programs.
//!
//! Two layers live in this crate:
//! * [`core`]: the sans-IO session state machine and waiting queue (plain std Rust,
//!   no I/O, no clock), tested natively with `cargo test`;
//! * `wasm` (only on `wasm32`): the wasm-bindgen boundary that runs the core's commands
//!   through injected JS shims.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod wasm;
