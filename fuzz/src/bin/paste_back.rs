//! Fuzz target: see `latchkey_fuzz::paste_back`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        latchkey_fuzz::paste_back(data);
    });
}
