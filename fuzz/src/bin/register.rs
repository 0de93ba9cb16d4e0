//! Fuzz target: see `latchkey_fuzz::register`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        latchkey_fuzz::register(data);
    });
}
