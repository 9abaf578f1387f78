// The wasm2js entry (tokengate/wasm2js after "build npm", tokengate/dist/wasm2js.js from
// node_modules) has the main entry's exports; only the core underneath differs where the
// runtime has no WebAssembly.
export * from './index'
