//! Fuzz target: see `latchkey_fuzz::token_response`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        latchkey_fuzz::token_response(data);
    });
}
