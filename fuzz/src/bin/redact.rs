//! Fuzz target: see `latchkey_fuzz::redact`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        latchkey_fuzz::redact(data);
    });
}
