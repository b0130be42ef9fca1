// Starts the opsdeck wasm app. Trunk writes the hashed file names into two
// <meta> tags (pattern_script in Trunk.toml); this file replaces Trunk's inline
// loader so the Content-Security-Policy can forbid inline scripts entirely.
const url = (name) => document.querySelector(`meta[name="${name}"]`).content;

const { default: init } = await import(url("opsdeck-js"));
await init({ module_or_path: url("opsdeck-wasm") });
