//! Fuzz target: see `latchkey_fuzz::links`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        latchkey_fuzz::links(data);
    });
}
