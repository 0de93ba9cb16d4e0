//! Fuzz target: see `latchkey_fuzz::metadata`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        latchkey_fuzz::metadata(data);
    });
}
