//! PLACEHOLDER until the boundary lands: the smallest export, so the build pipeline has a
//! real wasm-bindgen module to build, patch and load.
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").into()
}
