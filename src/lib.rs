//! tokengate: silent login and silent token refresh for WeChat mini-programs.
//!
//! Two layers live in this crate:
//! * [`core`]: the sans-IO session state machine and waiting queue (plain std Rust,
//!   no I/O, no clock), tested natively with `cargo test`;
//! * `wasm` (only on `wasm32`): the wasm-bindgen boundary: the exported `Client`, whose
//!   methods return promises, and the async driver task that owns the core and runs its
//!   commands through the promise-returning host shims the JS facade builds.

pub mod core;

/// The wasm-bindgen boundary; public so that tests/wasm_*.rs (wasm-bindgen-test) can drive
/// the real `Client` with a JS fake of the host.
#[cfg(target_arch = "wasm32")]
pub mod wasm;
