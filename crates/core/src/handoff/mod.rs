//! Handing credentials to the AI tools, in the shape each one reads, without losing a byte
//! of what was there.

pub mod atomic;
pub mod claude_code;
pub mod codex;
pub mod deliver;
pub mod gemini;
pub mod json_edit;
pub mod keychain;
