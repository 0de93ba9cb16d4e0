//! Keeping GTK's memory down (Linux): no OpenGL for a few forms.

/// What `GDK_GL` should be set to before GTK starts, given its current value: `disable`
/// unless the person set it. GTK otherwise initialises OpenGL when it opens the display;
/// under Mesa that maps the driver and LLVM (measured under Xvfb, release build: about 50 MB
/// RSS more, and a slower start). WebKit then draws the window without GPU acceleration,
/// which a few forms do not need (checked: the window renders and its IPC answers).
/// `GDK_GL=` (empty) or any other value keeps GTK's choice.
pub fn gdk_gl_default(current: Option<&std::ffi::OsStr>) -> Option<&'static str> {
    match current {
        None => Some("disable"),
        Some(_) => None,
    }
}

/// Applies [`gdk_gl_default`]; call first thing in `main`, before any thread exists.
pub fn prefer_software_rendering() {
    #[cfg(target_os = "linux")]
    if let Some(v) = gdk_gl_default(std::env::var_os("GDK_GL").as_deref()) {
        std::env::set_var("GDK_GL", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtk_s_opengl_is_off_unless_the_person_chose() {
        assert_eq!(gdk_gl_default(None), Some("disable"));
        assert_eq!(gdk_gl_default(Some("".as_ref())), None);
        assert_eq!(gdk_gl_default(Some("always".as_ref())), None);
    }
}
