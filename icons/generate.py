#!/usr/bin/env python3
"""Generate Latchkey's icons from SVG drawn here, rendered by rsvg-convert (librsvg2-bin).

Writes:
  icons/app-icon.svg, icons/app-icon.png (1024x1024): the source for `tauri icon`
  ui/public/logo.svg: the same drawing, for the UI's header
  icons/tray-ok.png (the plain key: nothing needs the person), icons/tray-warning.png,
  icons/tray-needs-auth.png (the key with a badge), all 64x64

and then, through the Tauri CLI pinned in ui/ (run `npm ci --prefix ui` first), the
desktop bundle set from app-icon.png: 32x32.png, 64x64.png, 128x128.png, 128x128@2x.png,
icon.png, icon.ico, icon.icns. The mobile and Windows Store sizes it also writes are removed.

Run from anywhere: python3 icons/generate.py (--tray-only: the tray icons alone). Needs rsvg-convert and only the Python
standard library.
"""
import pathlib
import shutil
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
UI = HERE.parent / "ui"

# A key: round bow with a hole, a shaft, two bits. Drawn on a 100x100 grid.
KEY = """
  <g transform="rotate(-35 50 50)">
    <path fill-rule="evenodd" fill="{fill}" d="
      M 30 33 a 17 17 0 1 0 0.01 0 Z
      M 30 43 a 7 7 0 1 1 -0.01 0 Z"/>
    <rect x="44" y="45" width="44" height="10" rx="2" fill="{fill}"/>
    <rect x="70" y="53" width="7" height="13" rx="1.5" fill="{fill}"/>
    <rect x="80" y="53" width="7" height="10" rx="1.5" fill="{fill}"/>
  </g>
"""

APP = """<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024" viewBox="0 0 100 100">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#2563eb"/>
      <stop offset="1" stop-color="#0f2a5c"/>
    </linearGradient>
  </defs>
  <rect x="4" y="4" width="92" height="92" rx="20" fill="url(#bg)"/>
  <g transform="translate(1 7) scale(0.92)">{key}</g>
</svg>
"""

# Tray: a key in neutral grey (readable on light and dark panels), plain when nothing needs
# the person (as other tray apps stay quiet when all is well), else with a status badge
# bottom-right whose colour and shape both differ, so it reads without colour too.
BADGES = {
    "ok": "",
    # amber triangle with a dark exclamation mark
    "warning": """<path d="M 72 42 L 99 96 L 45 96 Z" fill="#f59e0b" stroke="#ffffff"
            stroke-width="4" stroke-linejoin="round"/>
      <rect x="68.5" y="58" width="7" height="21" rx="3" fill="#1f2937"/>
      <circle cx="72" cy="87" r="4" fill="#1f2937"/>""",
    # red disc with a white cross: sign-in needed
    "needs-auth": """<circle cx="72" cy="72" r="26" fill="#dc2626" stroke="#ffffff" stroke-width="4"/>
      <path d="M 62 62 L 82 82 M 82 62 L 62 82" stroke="#ffffff" stroke-width="7"
            stroke-linecap="round"/>""",
}

TRAY = """<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 100 100">
  <g transform="{place}">{key}</g>
  {badge}
</svg>
"""
# With a badge the key moves up and left to make room; alone it fills the icon.
WITH_BADGE = "translate(-4 -8) scale(0.95)"
ALONE = "translate(-2 -2) scale(1.04)"


def render(svg: str, out: pathlib.Path, size: int) -> None:
    src = out.with_suffix(".svg")
    src.write_text(svg)
    subprocess.run(
        ["rsvg-convert", "-w", str(size), "-h", str(size), "-o", str(out), str(src)],
        check=True,
    )


def main() -> None:
    key = KEY.format(fill="#6b7280")
    for name, badge in BADGES.items():
        place = WITH_BADGE if badge else ALONE
        render(TRAY.format(place=place, key=key, badge=badge), HERE / f"tray-{name}.png", 64)
        (HERE / f"tray-{name}.svg").unlink()
    if "--tray-only" in sys.argv:
        return
    render(APP.format(key=KEY.format(fill="#ffffff")), HERE / "app-icon.png", 1024)
    shutil.copyfile(HERE / "app-icon.svg", UI / "public" / "logo.svg")

    subprocess.run(
        ["npm", "exec", "--", "tauri", "icon", str(HERE / "app-icon.png"), "-o", str(HERE)],
        cwd=UI,
        check=True,
    )
    for extra in ("android", "ios"):
        shutil.rmtree(HERE / extra, ignore_errors=True)
    for extra in [*HERE.glob("Square*Logo.png"), HERE / "StoreLogo.png"]:
        extra.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
