//! Fuzz target: see `latchkey_fuzz::www_authenticate`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        latchkey_fuzz::www_authenticate(data);
    });
}
