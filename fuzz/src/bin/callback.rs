//! Fuzz target: see `latchkey_fuzz::callback`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        latchkey_fuzz::callback(data);
    });
}
