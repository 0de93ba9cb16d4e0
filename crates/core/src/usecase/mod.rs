//! The use-case layer: what the command line, the window and the tray call. Each use case
//! puts the lower layers together once (sign in, renew, probe and status, why, hand off,
//! sign out, the inventory), so recording flows, updating the kernel copy, a tool's minimum
//! validity and the events happen in one place whichever front asked.

pub mod hand_off;
pub mod links;
pub mod reauth;
pub mod renew;
pub mod scheduler;
pub mod sign_in;
pub mod step_up;
pub mod tray_bus;
pub mod why;
