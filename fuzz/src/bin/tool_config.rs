//! Fuzz target: see `latchkey_fuzz::tool_config`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        latchkey_fuzz::tool_config(data);
    });
}
