//! What Latchkey writes into the tools that read their own credential stores (Claude Code,
//! Codex, Gemini CLI), in the shape each one reads, without losing a byte of what was there.

pub mod claude_code;
pub mod codex;
pub mod gemini;
pub mod json_edit;
pub mod keychain;
